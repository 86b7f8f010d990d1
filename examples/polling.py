"""Polling with function tools: answer ``requires_action`` without streaming.

The embedded server's default model turns a line ``call NAME {json}`` into a function call, so
this script is deterministic; a real model decides on its own when to call ``get_weather``.

    python examples/polling.py
"""

from __future__ import annotations

import asyncio
import json

from assistants_async import AsyncAssistants
from assistants_async.testing import AssistantsServer
from assistants_async.types import TextContentBlock

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


async def get_weather(city: str) -> str:
    return f"sunny, 21 C in {city}"


async def main() -> None:
    async with AssistantsServer() as server:
        async with AsyncAssistants(api_key="sk-local", base_url=server.url) as client:
            assistant = await client.assistants.create(model="gpt-4o", tools=[WEATHER_TOOL])
            # Two calls on one line each: the model asks for both at once (parallel calls).
            thread = await client.threads.create(
                messages=[
                    {
                        "role": "user",
                        "content": 'call get_weather {"city": "Paris"}\n'
                        'call get_weather {"city": "Oslo"}',
                    }
                ]
            )
            run = await client.threads.runs.create_and_poll(
                thread_id=thread.id, assistant_id=assistant.id
            )
            while run.status == "requires_action" and run.required_action is not None:
                calls = run.required_action.submit_tool_outputs.tool_calls
                outputs = []
                for call in calls:
                    args = json.loads(call.function.arguments)
                    result = await get_weather(**args)
                    print(f"{call.function.name}({call.function.arguments}) -> {result}")
                    outputs.append({"tool_call_id": call.id, "output": result})
                run = await client.threads.runs.submit_tool_outputs_and_poll(
                    thread_id=thread.id, run_id=run.id, tool_outputs=outputs
                )
            print(f"run {run.status}")

            page = await client.threads.messages.list(thread_id=thread.id, order="desc", limit=1)
            reply = page.data[0]
            for block in reply.content:
                if isinstance(block, TextContentBlock):
                    print(f"assistant: {block.text.value}")


if __name__ == "__main__":
    asyncio.run(main())
