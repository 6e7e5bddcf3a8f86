"""The course's JupyterLab file manager: notebooks opened without stale widget views.

JupyterLab saves an explorer's output with a view of its live widget, which points at the kernel that drew it.
Opened again once that kernel is gone (the next day, or after its tab was closed), each such view showed "Error
displaying widget: model not found" where the explorer was, in the notebook and large on its slide. A notebook
opened while no kernel runs for it now comes without the views, so it shows the picture the explorer was first
drawn with and the hint to run the lesson, as the course's own files do. While its kernel runs (a RISE slideshow
started from the running lesson) the views stay, and the explorers on the slides are live.

jupyter-config/jupyter_server_config.json names the class, for `make lab`, `make lecture` and `make instructor`;
Binder's postBuild copies that file.
"""

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

from logitlab.authoring.course import without_widget_views


class CourseContentsManager(AsyncLargeFileManager):
    """jupyter_server's default file manager, except that a notebook read while no kernel session runs for it
    comes without widget views (the file on disk is not changed)."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        # The contents API's path may start with "/"; a session's never does.
        if content and model["type"] == "notebook" and not await self.parent.session_manager.session_exists(
                path.strip("/")):
            for cell in model["content"].get("cells", []):
                if cell.get("cell_type") == "code":  # a hand-edited file may lack what nbformat requires
                    cell["outputs"] = without_widget_views(cell.get("outputs", []))
        return model
