"""Function tools from plain Python functions, answered automatically, streamed and polled.

``@function_tool`` builds each tool's JSON schema from type hints and docstring; a ``Toolbox``
gives the ``tools=[...]`` definitions and runs every call of a ``requires_action``
concurrently. Passing ``toolbox=`` to a run helper keeps answering until the run is done.

The embedded server's default model turns each line ``call NAME {json}`` into a function call
and then replies quoting the outputs, so this script is deterministic and needs no API key.

    python examples/tools.py
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel

from assistants_async import (
    AsyncAssistants,
    AsyncEventHandler,
    Tool,
    Toolbox,
    ToolCallFinished,
    ToolCallStarted,
    function_tool,
)
from assistants_async.testing import AssistantsServer
from assistants_async.types import TextContentBlock


@function_tool
async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        unit: Temperature unit.
    """
    return f"sunny, 21 {unit.upper()} in {city}"


@function_tool(timeout=5)
def convert(amount: float, rate: float = 1.1) -> dict[str, float]:
    """Convert an amount of euros to dollars (a sync function: it runs in a worker thread)."""
    return {"usd": round(amount * rate, 2)}


class Order(BaseModel):
    """Look up an order by its number."""

    order_id: int


async def find_order(order: Order) -> Order:
    if order.order_id < 0:
        raise ValueError("order numbers are positive")
    return order


class ToolLog(AsyncEventHandler):
    """Stream callbacks plus the two tool hooks the tool loop calls when they exist."""

    async def on_tool_start(self, info: ToolCallStarted) -> None:
        print(f"  -> {info.name}({info.arguments})")

    async def on_tool_end(self, info: ToolCallFinished) -> None:
        print(f"  <- {info.name}: {info.status}")


async def main() -> None:
    toolbox = Toolbox([get_weather, convert, Tool.from_model(Order, find_order, name="find_order")])
    print("tools:", ", ".join(d["function"]["name"] for d in toolbox.definitions()))

    async with AssistantsServer() as server:
        async with AsyncAssistants(api_key="sk-local", base_url=server.url) as client:
            assistant = await client.assistants.create(model="gpt-4o", tools=toolbox.definitions())

            # 1. Streamed: one `async for` covers the first response, the tool calls and the
            #    continuation after their outputs were submitted.
            thread = await client.threads.create(
                messages=[
                    {
                        "role": "user",
                        "content": 'call get_weather {"city": "Paris"}\n'
                        'call convert {"amount": 20}\n'
                        'call find_order {"order_id": -1}',
                    }
                ]
            )
            print("streamed:")
            async with client.threads.runs.stream(
                thread_id=thread.id,
                assistant_id=assistant.id,
                toolbox=toolbox,
                event_handler=ToolLog(),
            ) as stream:
                async for text in stream.text_deltas:
                    print(text, end="", flush=True)
                print()
                print(f"run {(await stream.final_run()).status}")

            # 2. Polled: the same loop without streaming.
            await client.threads.messages.create(
                thread.id, role="user", content='call get_weather {"city": "Oslo", "unit": "f"}'
            )
            run = await client.threads.runs.create_and_poll(
                thread_id=thread.id, assistant_id=assistant.id, toolbox=toolbox
            )
            print(f"polled: run {run.status}")
            page = await client.threads.messages.list(thread.id, order="desc", limit=1)
            for block in page.data[0].content:
                if isinstance(block, TextContentBlock):
                    print(block.text.value)


if __name__ == "__main__":
    asyncio.run(main())
