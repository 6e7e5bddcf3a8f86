"""The course's JupyterLab file manager: notebooks opened without widget views that would show an error.

JupyterLab saves an explorer's output with a view of its live widget, which points at a model in the kernel that
drew it. Opened where that model does not exist (the next day, after its tab was closed, or beside a kernel that
was restarted or has not run the lesson yet), each such view showed "Error displaying widget: model not found"
where the explorer was, in the notebook and large on its slide. A notebook is now read with only the views whose
model lives in the kernel of its session: with no session, or a kernel that has not drawn the explorer, it shows
the picture the explorer was first drawn with and the hint to run the lesson, as the course's own files do. A RISE
slideshow started from the running lesson gets the views, and the explorers on the slides are live.

jupyter-config/jupyter_server_config.json names the class, for `make lab`, `make lecture` and `make instructor`;
Binder's postBuild copies that file.
"""

import queue
import time

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

from logitlab.authoring.course import WIDGET_VIEW, without_widget_views

WIDGET_TARGET = "jupyter.widget"  # the comm target of every ipywidgets model
REPLY_SECONDS = 2.0  # a kernel busy running a cell answers only after it: the views are then kept as saved


class CourseContentsManager(AsyncLargeFileManager):
    """jupyter_server's default file manager, except that a notebook is read without the widget views whose model
    is not alive in its session's kernel (the file on disk is not changed)."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model["type"] == "notebook":
            cells = [cell for cell in model["content"].get("cells", []) if cell.get("cell_type") == "code"]
            if any(WIDGET_VIEW in (out.get("data") or {}) for cell in cells for out in cell.get("outputs", [])):
                live = await self.live_widget_models(path.strip("/"))  # a session's path never starts with "/"
                if live is not None:
                    for cell in cells:  # a hand-edited file may lack what nbformat requires
                        cell["outputs"] = without_widget_views(cell.get("outputs", []), keep=live)
        return model

    async def live_widget_models(self, path):
        """The ids of the widget models alive in the kernel of `path`'s session: none when no session runs for
        it; None (keep every view) when its kernel does not answer within REPLY_SECONDS."""
        sessions = self.parent.session_manager
        if not await sessions.session_exists(path):
            return set()
        client = None
        try:
            session = await sessions.get_session(path=path)
            client = self.parent.kernel_manager.get_kernel(session["kernel"]["id"]).client()
            client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            asked = client.comm_info(target_name=WIDGET_TARGET)
            deadline = time.monotonic() + REPLY_SECONDS
            while time.monotonic() < deadline:
                reply = await client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
                if reply["parent_header"].get("msg_id") == asked:
                    return set(reply["content"].get("comms", {}))
        except (queue.Empty, HTTPError, KeyError) as err:  # no reply in time; the session or its kernel just went
            self.log.info("Widget views of %s kept as saved: its kernel did not list its widgets (%r)", path, err)
        finally:
            if client is not None:
                client.stop_channels()
        return None

