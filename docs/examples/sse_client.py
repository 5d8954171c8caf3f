#!/usr/bin/env python3
"""Follow a shmring ring through ringbridge's Server-Sent Events stream.

Standard library only. Usage:

    sse_client.py http://127.0.0.1:8080/rings/NAME/stream [LAST_EVENT_ID]

Prints one line per message, "EPOCH:SEQ DATA", and one line per control
event, starting with "# ". Every event id is remembered; after a
disconnect (ringbridge restarted, network trouble, or the bridge closing
a stream that fell behind) it reconnects with "Last-Event-ID: EPOCH:SEQ"
and continues exactly after the last message it printed.

What the bridge tells a client about loss:
  overrun  {"lost":N,"next":S}  this stream fell more than a ring behind
           (the producer overwrote messages not yet sent); the bridge then
           closes it. Reconnecting reports the definitive loss as a gap.
  gap      {"lost":N,"next":S}  exactly N messages are gone; the stream
           continues at S. Its id acknowledges the gap for later resumes.
  restart  {"epoch":E,"previous_epoch":P,"first":F,"lost":L}
           a new producer replaced the ring; sequence numbers start again
           at 0 in epoch E and the stream continues at F; L = F messages
           of E were gone already (a gap event with that count follows).
  eof      {"next":S}           the producer closed the ring: all read.
Exits 0 at eof, 1 if it cannot (re)connect.
"""
import http.client
import json
import sys
import time
import urllib.error
import urllib.request

MAX_ATTEMPTS = 30   # consecutive failed connection attempts before giving up


def events(resp):
    """Yield (id, event, data) per SSE event, parsing line by line."""
    ev_id, ev_type, data = None, "message", []
    for raw in resp:  # an HTTPResponse iterates over lines as they arrive
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield ev_id, ev_type, "\n".join(data)
            ev_id, ev_type, data = None, "message", []
            continue
        if line.startswith(":"):  # comment: heartbeat
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            ev_id = value
        elif field == "event":
            ev_type = value
        elif field == "data":
            data.append(value)
        elif field == "retry":
            yield None, "retry", value


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    url = sys.argv[1]
    last_id = sys.argv[2] if len(sys.argv) == 3 else None
    retry_s, attempts = 2.0, 0
    received = lost = 0
    while True:
        req = urllib.request.Request(url)
        if last_id is not None:
            req.add_header("Last-Event-ID", last_id)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                attempts = 0
                print(f"# connected, Last-Event-ID: {last_id or '-'}",
                      flush=True)
                for ev_id, kind, data in events(resp):
                    if kind == "retry":
                        retry_s = int(data) / 1000
                        continue
                    if ev_id is not None:
                        last_id = ev_id
                    if kind in ("message", "base64"):
                        received += 1
                        print(ev_id, data, flush=True)
                        continue
                    info = json.loads(data)
                    if kind == "gap":
                        lost += info["lost"]
                        print(f"# gap: lost {info['lost']} messages,"
                              f" next is {info['next']}", flush=True)
                    elif kind == "overrun":
                        print(f"# overrun: {info['lost']} messages overwritten"
                              " before they were sent, resuming", flush=True)
                    elif kind == "restart":
                        print(f"# restart: epoch {info['epoch']},"
                              f" continuing at {info['first']}"
                              f" ({info['lost']} of it gone)", flush=True)
                    elif kind == "eof":
                        print(f"# eof: {received} messages received,"
                              f" {lost} lost", flush=True)
                        return 0
        except urllib.error.HTTPError as e:
            if e.code < 500:  # a bad request will not get better
                print(f"# {e.code}: {e.read().decode().strip()}",
                      file=sys.stderr)
                return 1
            attempts += 1
        except (OSError, http.client.HTTPException):
            attempts += 1
        if attempts >= MAX_ATTEMPTS:
            print(f"# giving up after {attempts} attempts", file=sys.stderr)
            return 1
        print(f"# disconnected, retrying in {retry_s:g} s", flush=True)
        time.sleep(retry_s)


if __name__ == "__main__":
    sys.exit(main())
