"""Where a slider move's time goes in a real browser: one explorer in JupyterLab in headless Chromium.

    .venv/bin/python tests/bench_browser.py [--size projector] [--explorer softmax] [--moves 40]

A notebook with one explorer is opened in a JupyterLab of its own; its first slider handle gets real
key presses 100 ms apart (as tests/test_browser.py does). Each move is followed end to end:

    key down -> comm message sent (the kernel connection's anyMessage signal) -> kernel starts and ends
    handling it (ipywidgets' Widget._handle_msg, timed in the kernel) -> each update message received
    -> the picture's <img> loaded -> the next frame painted after it

Browser times are performance.timeOrigin + performance.now(); kernel times are time.time(): the same
machine's clock, so they line up to about a millisecond. Prints the median and p95 of each step and
writes them, with every move's raw times, to artifacts/browser-breakdown-<explorer>-<size>.json. Not a test.

What it showed on the 2-core course machine (2026-11-22, softmax explorer, normal size, 40 moves, load
average 2.7-4: other work was running), median ms after the key press, before -> after this branch:
    comm message sent 1.3 | kernel starts 9 | kernel ends 33 -> 25 (its own CPU: ~6 ms) |
    picture message in JupyterLab 54 -> 46 | img loaded 70 -> 54 (blob: URL 14 ms -> data: URL 5 ms after
    the message) | painted one frame (10-20 ms) later.
Per move the processes spent, in CPU ms: Chromium's renderer 55-70, its browser process 21-27, its software
compositor 13-18, Playwright 15-17, the JupyterLab server 10-13, the kernel 9-13: about five frames a move
(slider, kernel status busy/idle, picture, numbers), each ~7 ms of layout/layerize/commit of JupyterLab's
page plus ~5 ms of software compositing. On two shared cores the wait for CPU between the hops (browser ->
server -> kernel -> server -> browser) is most of the latency; it varies with the machine's load.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from helpers import CHROMIUM_FLAGS, LAB_SETTINGS, RUN_ALL, chromium_path, open_notebook, serve_lab  # noqa: E402

TOKEN = "logitlab-bench-browser"

# The kernel side: when ipywidgets starts and ends handling each message from the browser.
KERNEL_TIMING = """
import time, ipywidgets
KERNEL_TIMES = []
_handle = ipywidgets.Widget._handle_msg
def _timed_handle(self, msg):
    start = time.time() * 1000
    _handle(self, msg)
    KERNEL_TIMES.append([start, time.time() * 1000, msg['content']['data'].get('method')])
ipywidgets.Widget._handle_msg = _timed_handle
"""

# Runs in the page once: log every kernel message with its time, direction, and what it updates.
HOOK = """
() => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  window.__log = [];
  const now = () => performance.timeOrigin + performance.now();
  kernel.anyMessage.connect((_, args) => {
    const msg = args.msg, data = (msg.content || {}).data || {};
    window.__log.push({t: now(), dir: args.direction, type: msg.header.msg_type, method: data.method || null,
                       made: Date.parse(msg.header.date), ws: (window.__frames || []).length,
                       keys: Object.keys(data.state || {}), comm: (msg.content || {}).comm_id || null,
                       bytes: (msg.buffers || []).reduce((n, b) => n + (b.byteLength || 0), 0)});
  });
}
"""
# Runs before the page's own scripts: the time and size of every WebSocket frame in and out.
FRAMES = """
(() => {
  const Native = window.WebSocket;
  window.__frames = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (e) => window.__frames.push(
        {t: performance.timeOrigin + performance.now(), dir: 'in', size: e.data.byteLength || e.data.length || 0}));
    const send = ws.send.bind(ws);
    ws.send = (data) => { window.__frames.push({t: performance.timeOrigin + performance.now(), dir: 'out',
                                                 size: data.byteLength || data.length || 0}); return send(data); };
    return ws;
  };
  Object.assign(window.WebSocket, Native);
  window.WebSocket.prototype = Native.prototype;
})();
"""
ARM = """
() => {
  const now = () => performance.timeOrigin + performance.now();
  const explorer = window.jupyterapp.shell.currentWidget.node.querySelector('.logitlab-explorer');
  const img = explorer.querySelector('.logitlab-picture');
  const numbers = explorer.querySelector('.logitlab-numbers');
  window.__move = {text: numbers.innerText, src: img.src, key: null, loaded: null, painted: null,
                   numbers: null, logFrom: window.__log.length, framesFrom: window.__frames.length};
  document.addEventListener('keydown', () => { window.__move.key = now(); }, {capture: true, once: true});
  img.addEventListener('load', () => {
    window.__move.loaded = now();
    requestAnimationFrame(() => setTimeout(() => { window.__move.painted = now(); }, 0));
  }, {once: true});
  new MutationObserver((_, observer) => { window.__move.numbers = now(); observer.disconnect(); })
    .observe(numbers, {subtree: true, childList: true, characterData: true});
  explorer.querySelector('.noUi-handle').focus();
}
"""
DONE = "() => window.__move.painted !== null && window.__move.numbers !== null"
# The same wait without polling: a promise that the page resolves itself (rAF polling asks for a frame 60 times
# a second, which on a 2-core machine takes CPU from the kernel and the server it is measuring).
DONE_PROMISE = """
() => new Promise((resolve) => {
  const check = () => (window.__move.painted !== null && window.__move.numbers !== null) ? resolve(true)
                                                                                      : setTimeout(check, 20);
  check();
})
"""
RESULT = """() => Object.assign({}, window.__move, {log: window.__log.slice(window.__move.logFrom),
                                                  frames: window.__frames.slice(window.__move.framesFrom)})"""
KERNEL_TIMES = """
async () => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code: '', silent: true,
                                        user_expressions: {times: 'json.dumps(KERNEL_TIMES)'}});
  const reply = await future.done;
  return reply.content.user_expressions.times.data['text/plain'];
}
"""


def notebook(size, explorer):
    """A notebook that times the kernel's widget handling, then shows one explorer at `size`."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(KERNEL_TIMING + "import json\nimport logitlab as ll\n"
                                          f"ll.widgets.set_size({size!r})"),
                nbformat.v4.new_code_cell(f"ll.widgets.{explorer}_explorer()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def lab_server_pid():
    """The pid of the JupyterLab server `serve_lab` started: a child of this process."""
    import psutil

    return next(child.pid for child in psutil.Process().children()
                if "jupyterlab" in " ".join(child.cmdline()))


def cpu_by_process(lab_pid):
    """CPU seconds used so far by each process that takes part in a move: the JupyterLab server, its kernel,
    and this script's Playwright driver and Chromium processes (by their --type)."""
    import psutil

    totals = {}

    def add(name, proc):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            return
        totals[name] = totals.get(name, 0.0) + times.user + times.system

    lab = psutil.Process(lab_pid)
    add("jupyter server", lab)
    for child in lab.children(recursive=True):
        add("kernel", child)
    for child in psutil.Process().children(recursive=True):
        if child.pid == lab_pid or lab_pid in [p.pid for p in child.parents()]:
            continue
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        kind = next((a.split("=", 1)[1] for a in cmdline if a.startswith("--type=")), None)
        kind = kind + (" " + next((a.split("=", 1)[1] for a in cmdline if a.startswith("--utility-sub-type=")), "")
                       if kind == "utility" else "") if kind else ("chromium browser" if "chrom" in cmdline[0]
                                                                     else "playwright driver")
        add(kind.strip(), child)
    return totals


def print_trace(trace, moves, top=30):
    """Chromium's trace: total duration per event name and thread (ms per move), longest first."""
    threads = {}
    for e in trace["traceEvents"]:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
    totals = {}
    for e in trace["traceEvents"]:
        if e.get("ph") == "X" and "dur" in e:
            key = f"{threads.get((e['pid'], e['tid']), e['tid'])}: {e['name']}"
            totals[key] = totals.get(key, 0) + e["dur"]
    print("  Chromium trace, total duration per event (nested events overlap), ms per move:")
    for name, us in sorted(totals.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {us / 1000 / moves:7.2f}  {name[:100]}")
    print("  the renderer's main-thread work by kind (ms per move, count per move):")
    kinds = ["UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit", "FunctionCall", "EventDispatch",
             "TimerFire", "FireAnimationFrame", "V8.GC_MC_INCREMENTAL", "MinorGC", "MajorGC", "V8.GCScavenger",
             "Decode Image", "ImageDecodeTask", "HitTest", "ParseHTML", "ProxyMain::BeginMainFrame", "XHRLoad",
             "ResourceReceivedData", "v8.compile", "v8.run", "ScheduleStyleRecalculation",
             "IntersectionObserverController::computeIntersections",
             "ResizeObserverController::DeliverObservations", "PaintImage", "ImageDecode", "Decode LazyPixelRef",
             "RasterTask", "DisplayScheduler::DrawAndSwap", "GpuImageDecodeCache::DecodeImage"]
    for kind in kinds:
        events = [e for e in trace["traceEvents"] if e.get("ph") == "X" and e.get("name") == kind and "dur" in e]
        if events:
            print(f"    {sum(e['dur'] for e in events) / 1000 / moves:7.2f}  x{len(events) / moves:5.1f}  {kind}")


def print_profile(profile, moves, top=25):
    """The renderer's JavaScript CPU profile: self time per function (ms per move), most first."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = profile["timeDeltas"]
    self_us = {}
    for node_id, delta in zip(profile["samples"], deltas):
        frame = nodes[node_id]["callFrame"]
        name = f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber']}"
        self_us[name] = self_us.get(name, 0) + delta
    total = sum(self_us.values())
    print(f"  renderer JS profile: {total / 1000 / moves:.1f} ms sampled per move; top self times (ms per move):")
    for name, us in sorted(self_us.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {us / 1000 / moves:6.2f}  {name[:110]}")


def breakdown(move, kernel_times):
    """The times of one move's steps, in ms after its key press."""
    key = move["key"]
    sent = [m for m in move["log"] if m["dir"] == "send" and m["type"] == "comm_msg"]
    received = [m for m in move["log"] if m["dir"] == "recv" and m["type"] == "comm_msg"]
    picture = [m for m in received if m["method"] == "update" and m["bytes"] > 0]
    big = [f for f in move["frames"] if f["dir"] == "in" and f["size"] > 2000]
    row = {"sent": sent[0]["t"] - key if sent else None,
           "picture_made": picture[0]["made"] - key if picture else None,
           "picture_frame": big[0]["t"] - key if big else None,
           "messages_sent": len(sent), "messages_received": len(received),
           "picture_msg": picture[0]["t"] - key if picture else None,
           "picture_kb": picture[0]["bytes"] / 1024 if picture else None,
           "loaded": move["loaded"] - key, "painted": move["painted"] - key,
           "numbers": move["numbers"] - key}
    if sent:
        handled = [k for k in kernel_times if k[0] >= sent[0]["t"] - 5 and k[2] == "update"]
        if handled:
            row["kernel_start"], row["kernel_end"] = handled[0][0] - key, handled[0][1] - key
    row["received_order"] = [f"{m['method']}:{','.join(m['keys'])}" for m in received]
    # Every message in and out: (type, method, made by its sender, seen by JupyterLab), ms after the key.
    row["messages"] = [(m["dir"], m["type"], m["method"], round(m["made"] - key, 1), round(m["t"] - key, 1))
                       for m in move["log"]]
    row["frames"] = [(f["dir"], f["size"], round(f["t"] - key, 1)) for f in move["frames"]]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="normal")
    parser.add_argument("--explorer", default="softmax")
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--spacing-ms", type=int, default=100)
    parser.add_argument("--poll", default="raf", choices=["raf", "none"],
                        help="wait for each move by Playwright's rAF polling (as tests/test_browser.py) or not")
    parser.add_argument("--profile", action="store_true", help="print the renderer's JavaScript CPU profile")
    parser.add_argument("--trace", action="store_true", help="print where Chromium's threads spend their time")
    args = parser.parse_args()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    rows = []
    try:
        with serve_lab(home, TOKEN, LAB_SETTINGS) as base, sync_playwright() as p:
            nbformat.write(notebook(args.size, args.explorer), home / "course" / "bench.ipynb")
            lab_pid = lab_server_pid()
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script(FRAMES)
            open_notebook(page, base, TOKEN, "bench.ipynb")
            page.evaluate(RUN_ALL)
            page.wait_for_function("() => window.jupyterapp.shell.currentWidget.node"
                                   ".querySelector('.logitlab-explorer .logitlab-picture')", timeout=30000)
            page.evaluate("() => window.jupyterapp.shell.currentWidget.node.querySelector('.logitlab-explorer')"
                          ".scrollIntoView({block: 'center'})")
            page.wait_for_timeout(500)
            page.evaluate(HOOK)
            idle_before = cpu_by_process(lab_pid)
            page.wait_for_timeout(3000)
            idle = {name: (ms - idle_before.get(name, 0.0)) * 1000 / 3 for name, ms in cpu_by_process(lab_pid).items()}
            moves = []
            cdp = None
            for move in range(args.moves + 4):  # the first 4 warm up
                if move == 4:
                    cpu_before, wall_before = cpu_by_process(lab_pid), time.monotonic()
                    if args.trace:
                        browser.start_tracing(page=page, categories=[
                            "devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "cc", "gpu", "viz",
                            "toplevel"])
                    if args.profile:
                        cdp = page.context.new_cdp_session(page)
                        cdp.send("Profiler.enable")
                        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                        cdp.send("Profiler.start")
                page.wait_for_timeout(args.spacing_ms)
                page.evaluate(ARM)
                page.keyboard.press("ArrowRight" if (move // 4) % 2 == 0 else "ArrowLeft")
                try:
                    if args.poll == "raf":
                        page.wait_for_function(DONE, timeout=10000)
                    else:
                        page.evaluate(DONE_PROMISE)
                except PlaywrightTimeout:
                    print(f"move {move}: no new picture and numbers within 10 s:",
                          {k: v for k, v in page.evaluate(RESULT).items() if k not in ("log", "frames")})
                    continue
                if move >= 4:
                    moves.append(page.evaluate(RESULT))
            cpu_after, wall_after = cpu_by_process(lab_pid), time.monotonic()
            if args.trace:
                print_trace(json.loads(browser.stop_tracing()), args.moves)
            if cdp is not None:
                print_profile(cdp.send("Profiler.stop")["profile"], args.moves)
            kernel_times = json.loads(page.evaluate(KERNEL_TIMES).strip("'"))  # the repr of a JSON string
            browser.close()
        rows = [breakdown(m, kernel_times) for m in moves]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    steps = ["sent", "kernel_start", "picture_made", "kernel_end", "picture_frame", "picture_msg", "loaded", "painted",
             "numbers"]
    print(f"{args.explorer} explorer at {args.size} size, {len(rows)} key presses {args.spacing_ms} ms apart; "
          "ms after the key press (median / p95)")
    summary = {}
    for step in steps:
        values = sorted(r[step] for r in rows if r.get(step) is not None)
        if values:
            summary[step] = {"median": statistics.median(values), "p95": values[int(0.95 * (len(values) - 1))],
                             "n": len(values)}
            print(f"  {step:<14} {summary[step]['median']:7.1f} {summary[step]['p95']:7.1f}   (n={len(values)})")
    gaps = sorted(r["loaded"] - r["picture_msg"] for r in rows if r.get("picture_msg") is not None)
    summary["picture_msg_to_loaded"] = {"median": statistics.median(gaps), "p95": gaps[int(0.95 * (len(gaps) - 1))]}
    print(f"  picture message -> img loaded: median {statistics.median(gaps):.1f}, "
          f"p95 {summary['picture_msg_to_loaded']['p95']:.1f}")
    print(f"  messages per move: sent {statistics.median(r['messages_sent'] for r in rows)}, "
          f"received {statistics.median(r['messages_received'] for r in rows)}; "
          f"picture {statistics.median(r['picture_kb'] for r in rows if r['picture_kb']):.0f} KB")
    print("  received, in order:", rows[0]["received_order"])
    cpu = {name: (cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / len(rows) for name in cpu_after}
    print(f"  CPU ms per move (all {len(rows)} moves, {args.spacing_ms} ms spacing and waits included), "
          "and CPU ms per second while nothing moves:")
    for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<38} {ms:6.1f}   idle {idle.get(name, 0.0):6.1f}")
    print(f"  wall ms per move, waits included: {(wall_after - wall_before) * 1000 / len(rows):.0f}; "
          f"load average {os.getloadavg()[0]:.1f}")
    summary["cpu_ms_per_move"], summary["idle_cpu_ms_per_s"] = cpu, idle
    out = ROOT / "artifacts" / f"browser-breakdown-{args.explorer}-{args.size}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "moves": rows}, indent=1))
    print(f"  written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
