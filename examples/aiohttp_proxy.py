"""A web backend that forwards a run's stream to its own clients, and a client that rebuilds it.

Server side (aiohttp.web): ``POST /chat`` starts a run and forwards its events as NDJSON
(``stream.to_ndjson()``, for fetch() readers and other services) or, with ``?format=sse``, as
Server-Sent Events (``stream.to_sse()``, for a browser's EventSource). The browser never sees the
API key. ``cancel_run_on_exit=True`` cancels the run upstream if the browser goes away.

Client side: ``AssistantStream.from_ndjson(...)`` / ``from_sse(...)`` turn the forwarded bytes
back into the same typed stream -- ``text_deltas``, snapshots, ``final_messages()``, handlers.

Everything runs in this one script against the embedded server:

    python examples/aiohttp_proxy.py            # run the round trip and exit
    python examples/aiohttp_proxy.py --serve    # keep the proxy up; try it with curl:
        curl -N -X POST localhost:8080/chat -d '{"message": "hi"}'
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp
from aiohttp import web

from assistants_async import AssistantStream, AsyncAssistants
from assistants_async.testing import AssistantsServer
from assistants_async.types import FileCitationAnnotation, TextContentBlock

CLIENT = web.AppKey("client", AsyncAssistants)
ASSISTANT_ID = web.AppKey("assistant_id", str)


async def chat(request: web.Request) -> web.StreamResponse:
    client = request.app[CLIENT]
    payload = await request.json()
    thread = await client.threads.create(
        messages=[{"role": "user", "content": str(payload["message"])}]
    )
    sse = request.query.get("format") == "sse"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream" if sse else "application/x-ndjson",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # ask nginx-style proxies not to buffer the stream
        }
    )
    await response.prepare(request)
    async with client.threads.runs.stream(
        thread_id=thread.id,
        assistant_id=request.app[ASSISTANT_ID],
        cancel_run_on_exit=True,
    ) as stream:
        async for chunk in stream.to_sse() if sse else stream.to_ndjson():
            await response.write(chunk)
    await response.write_eof()
    return response


async def make_app(upstream_url: str) -> web.Application:
    app = web.Application()
    client = AsyncAssistants(api_key="sk-local", base_url=upstream_url)
    app[CLIENT] = client
    assistant = await client.assistants.create(model="gpt-4o", instructions="Be brief.")
    app[ASSISTANT_ID] = assistant.id
    app.router.add_post("/chat", chat)

    async def close_client(app: web.Application) -> None:
        await app[CLIENT].aclose()

    app.on_cleanup.append(close_client)
    return app


async def browser_side(proxy_url: str) -> None:
    """What a Python front end (or a test) does with the forwarded bytes."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{proxy_url}/chat", json={"message": "Hello through the proxy"}
        ) as resp:
            print(f"NDJSON content-type: {resp.content_type}")
            async with AssistantStream.from_ndjson(resp.content.iter_any()) as stream:
                print("rebuilt from NDJSON: ", end="")
                async for text in stream.text_deltas:
                    print(text, end="", flush=True)
                print()
                run = await stream.final_run()
            print(f"run status seen through the proxy: {run.status}")

        async with session.post(
            f"{proxy_url}/chat?format=sse", json={"message": "Please cite your source."}
        ) as resp:
            print(f"SSE content-type: {resp.content_type}")
            async with AssistantStream.from_sse(resp.content.iter_any()) as stream:
                messages = await stream.final_messages()
            for message in messages:
                for block in message.content:
                    if isinstance(block, TextContentBlock):
                        print(f"rebuilt from SSE: {block.text.value}")
                        for annotation in block.text.annotations:
                            if isinstance(annotation, FileCitationAnnotation):
                                print(f"  citation {annotation.text!r}")


async def main(serve: bool) -> None:
    async with AssistantsServer() as upstream:
        runner = web.AppRunner(await make_app(upstream.url))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 8080 if serve else 0)
        await site.start()
        port = runner.addresses[0][1]  # the port the OS picked when asked for 0
        proxy_url = f"http://127.0.0.1:{port}"
        print(f"proxy listening on {proxy_url}")
        try:
            if serve:
                await asyncio.Event().wait()  # until Ctrl-C
            else:
                await browser_side(proxy_url)
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(main(serve="--serve" in sys.argv[1:]))
    except KeyboardInterrupt:
        pass
