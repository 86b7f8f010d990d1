"""Quickstart: create an assistant and a thread, run it to completion, read the reply.

Runs against the embedded loopback server, so it needs no API key and no network:

    python examples/quickstart.py

To use a real service instead, drop the ``AssistantsServer`` block and construct the client with
your ``api_key=`` and ``base_url=``.
"""

from __future__ import annotations

import asyncio

from assistants_async import AsyncAssistants
from assistants_async.testing import AssistantsServer
from assistants_async.types import TextContentBlock


async def main() -> None:
    async with AssistantsServer() as server:
        async with AsyncAssistants(api_key="sk-local", base_url=server.url) as client:
            assistant = await client.assistants.create(
                model="gpt-4o", name="Quickstart", instructions="Be brief."
            )
            thread = await client.threads.create(
                messages=[{"role": "user", "content": "Hello from the quickstart!"}]
            )
            # Creates the run and polls it (honouring openai-poll-after-ms) until it settles.
            run = await client.threads.runs.create_and_poll(
                thread_id=thread.id, assistant_id=assistant.id
            )
            print(f"run {run.id}: {run.status}")

            # `async for` walks every page of the list for you.
            async for message in client.threads.messages.list(thread_id=thread.id, order="asc"):
                for block in message.content:
                    if isinstance(block, TextContentBlock):
                        print(f"{message.role}: {block.text.value}")


if __name__ == "__main__":
    asyncio.run(main())
