"""Streaming: print a reply token by token, then look at the final snapshots.

Shows the two ways to consume a run stream:
1. plain iteration over ``stream.text_deltas`` (or ``async for event in stream`` for every event);
2. an ``AsyncEventHandler`` subclass with the official SDK's ``on_*`` callback names.

    python examples/streaming.py
"""

from __future__ import annotations

import asyncio

from assistants_async import AsyncAssistants, AsyncEventHandler
from assistants_async.testing import AssistantsServer
from assistants_async.types import (
    FileCitationAnnotation,
    Message,
    Text,
    TextContentBlock,
    TextDelta,
)


class Printer(AsyncEventHandler):
    """Callbacks as in openai-python's AsyncAssistantEventHandler, all async."""

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        print(delta.value or "", end="", flush=True)

    async def on_message_done(self, message: Message) -> None:
        print()
        for block in message.content:
            if isinstance(block, TextContentBlock):
                for annotation in block.text.annotations:
                    if isinstance(annotation, FileCitationAnnotation):
                        cited = annotation.file_citation.file_id
                        print(f"  cites {cited}: {annotation.text!r}")


async def main() -> None:
    async with AssistantsServer() as server:
        async with AsyncAssistants(api_key="sk-local", base_url=server.url) as client:
            assistant = await client.assistants.create(model="gpt-4o", instructions="Be brief.")
            thread = await client.threads.create(
                messages=[{"role": "user", "content": "Stream this sentence back to me, please."}]
            )

            # 1. Iterate text as it arrives; leaving the block closes the connection.
            async with client.threads.runs.stream(
                thread_id=thread.id, assistant_id=assistant.id
            ) as stream:
                print("text_deltas: ", end="")
                async for text in stream.text_deltas:
                    print(text, end="", flush=True)
                print()
                run = await stream.final_run()
                messages = await stream.final_messages()
            print(f"final run: {run.status}, {len(messages)} new message(s)")
            if run.usage is not None:
                print(f"usage: {run.usage.total_tokens} tokens")

            # 2. The same with callbacks; this reply carries a file citation annotation.
            await client.threads.messages.create(
                thread.id, role="user", content="Please cite a source."
            )
            async with client.threads.runs.stream(
                thread_id=thread.id, assistant_id=assistant.id, event_handler=Printer()
            ) as stream:
                print("handler: ", end="")
                await stream.until_done()


if __name__ == "__main__":
    asyncio.run(main())
