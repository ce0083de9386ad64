#!/usr/bin/env python3
"""The least a Chorus client must do: dedupe on (room, epoch, seq) and rejoin with `since` after reconnects.

Usage: dumb_client.py URL ROOM NAME SECONDS
Prints one JSON object per line: {"event": "joined"|"message"|"reset"|"done", ...}.
"""
import json
import sys
import threading

import socketio

url, room, name, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
position = {"epoch": None, "seq": 0}
seen = set()
lock = threading.Lock()
sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)


def out(**fields):
    print(json.dumps(fields), flush=True)


def accept(message):
    with lock:
        key = (message["room"], message["epoch"], message["seq"])
        if key in seen:
            return
        seen.add(key)
        if message["epoch"] == position["epoch"]:
            position["seq"] = max(position["seq"], message["seq"])
    out(event="message", epoch=message["epoch"], seq=message["seq"], text=message["text"])


def on_joined(ack):
    if not ack.get("ok"):
        out(event="join-failed", error=ack.get("error"))
        return
    with lock:
        if ack.get("recovered") is False:
            out(event="reset", epoch=ack["epoch"])
        position["epoch"] = ack["epoch"]
    out(event="joined", recovered=ack.get("recovered"), history=len(ack["history"]))
    for message in ack["history"]:
        accept(message)


@sio.event
def connect():
    payload = {"room": room}
    if position["epoch"] is not None:
        payload["since"] = {"epoch": position["epoch"], "seq": position["seq"]}
    sio.emit("room:join", payload, callback=on_joined)


@sio.on("message")
def on_message(message):
    if message["room"] == room:
        accept(message)


sio.connect(url, auth={"name": name}, transports=["websocket"])
sio.sleep(seconds)
sio.disconnect()
out(event="done")
