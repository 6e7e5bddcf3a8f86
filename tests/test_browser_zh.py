"""The Chinese edition in JupyterLab with its zh-CN language pack, in headless Chromium.

Two Chinese lessons run to the end and a slider redraws; the glossary link of a Chinese lesson (`#Glossary` in
English, `#cell-id=...` in the Chinese edition: logitlab/authoring/translate.py) lands on the Chinese glossary;
the Chinese exercise runs, and a wrong answer's check answers in Chinese. Screenshots go to
artifacts/screenshots/zh-CN-*.png (the CJK text must render in a real font: fonts-wqy-microhei, .ci/run).
"""

import pytest

from helpers import (ARM, CHANGED, RESULT, ROOT, new_page, open_notebook, run_all, serve_lab, show_explorer,
                     shut_down_kernel)

pytestmark = pytest.mark.browser

TOKEN = "logitlab-browser-zh"
SHOTS = ROOT / "artifacts" / "screenshots"
# No autosave (nothing writes into the served copy), and JupyterLab's own interface in Chinese, as
# `make lab LANG=zh-CN` sets it (jupyter-config/zh-CN/).
LAB_SETTINGS = {"@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
                "@jupyterlab/translation-extension/plugin.jupyterlab-settings": {"locale": "zh_CN"}}
WRONG_SOFTMAX = "import numpy as np\n\ndef softmax(logits):\n    return np.exp(logits)\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with serve_lab(tmp_path_factory.mktemp("lab-zh"), TOKEN, LAB_SETTINGS) as base:
        yield base


@pytest.fixture(scope="module")
def page(chromium):
    """One page for the module: JupyterLab is loaded once and each test opens its notebook in it (open_notebook's
    in_place: the other documents closed), as a learner opens one lesson after another."""
    page = new_page(chromium, {"width": 1400, "height": 1000})
    yield page
    page.close()


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"zh-CN-{name}.png"))


def move_first_slider(page, path):
    """A real key press on the first explorer's slider: its numbers and picture change."""
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.node"
                           ".querySelector('.logitlab-explorer .logitlab-picture')", timeout=30000)
    show_explorer(page, 0)
    page.evaluate(ARM, 0)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(CHANGED, arg=0, timeout=15000)
    result = page.evaluate(RESULT, 0)
    assert result["after"]["src"] != result["before"]["src"], f"{path}: the picture did not change"


@pytest.mark.parametrize("stem", ["00-start-here", "03-softmax"])
def test_chinese_lesson_runs_in_a_chinese_jupyterlab_and_its_slider_redraws(lab, page, stem):
    path = f"zh-CN/notebooks/{stem}.ipynb"
    try:
        open_notebook(page, lab, TOKEN, path, in_place=True)
        menu = page.inner_text("#jp-menu-panel")
        assert "文件" in menu and "编辑" in menu, f"JupyterLab's menus are not in Chinese: {menu!r}"
        run_all(page, path)
        body = page.evaluate("() => window.jupyterapp.shell.currentWidget.node.innerText")
        assert "logits" in body and ("课" in body or "概率" in body), body[:300]
        move_first_slider(page, path)
        # The kernel runs in zh-CN/notebooks: the explorer names its sliders in Chinese (logitlab/i18n.py).
        labels = page.evaluate("() => [...window.jupyterapp.shell.currentWidget.node.querySelector("
                               "'.logitlab-explorer').querySelectorAll('.widget-label')].map(l => l.innerText)")
        assert "温度 T" in labels and "平移量（加到每个 logit 上）" in labels, labels
        shoot(page, stem)
    except BaseException:
        shoot(page, f"{stem}-FAILED")
        raise
    finally:
        shut_down_kernel(page)


# Runs in the page: the visible heading the notebook scrolled to, after a link to #Glossary was followed.
GLOSSARY_SHOWN = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const heading = panel.node.querySelector('h2[data-jupyter-id="术语表"]');
  if (!heading) return null;
  const box = heading.getBoundingClientRect(), view = panel.content.node.getBoundingClientRect();
  return {text: heading.innerText, visible: box.top >= view.top - 5 && box.top < view.bottom,
          path: panel.context.path};
}
"""


def test_glossary_link_of_a_chinese_lesson_lands_on_the_chinese_glossary(lab, page):
    try:
        open_notebook(page, lab, TOKEN, "zh-CN/notebooks/03-softmax.ipynb", in_place=True)
        link = page.locator(".jp-RenderedMarkdown a", has_text="术语表 · Glossary").last
        link.scroll_into_view_if_needed()
        link.click()
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.path"
                               ".endsWith('00-start-here.ipynb')", timeout=30000)
        page.wait_for_function(f"() => {{ const s = ({GLOSSARY_SHOWN})(); return s && s.visible; }}", timeout=30000)
        shown = page.evaluate(GLOSSARY_SHOWN)
        assert shown["text"].startswith("术语表") and shown["path"] == "zh-CN/notebooks/00-start-here.ipynb", shown
        shoot(page, "glossary-link")
    except BaseException:
        shoot(page, "glossary-link-FAILED")
        raise


# Runs in the page: put `source` into the answer cell of task `answer` (its nbgrader grade id), run it and then the
# check cell after it; return the check's outputs once it has run.
ANSWER_AND_CHECK = """
async ([answer, source]) => {
  const app = window.jupyterapp, panel = app.shell.currentWidget, notebook = panel.content;
  const index = notebook.widgets.findIndex(c => (c.model.getMetadata('nbgrader') || {}).grade_id === answer);
  notebook.widgets[index].model.sharedModel.setSource(source);
  const check = notebook.widgets[index + 1];
  const before = check.model.executionCount;
  notebook.activeCellIndex = index;
  await app.commands.execute('notebook:run-cell-and-select-next');
  await app.commands.execute('notebook:run-cell');
  const deadline = Date.now() + 60000;
  while ((check.model.executionCount === before || check.model.executionCount === null
          || panel.sessionContext.session.kernel.status !== 'idle') && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  check.node.scrollIntoView({block: 'center'});
  return {outputs: check.model.outputs.toJSON(), shown: check.node.innerText};
}
"""


def test_chinese_exercise_runs_and_a_wrong_answer_gets_chinese_feedback(lab, page):
    path = "zh-CN/exercises/03-softmax.ipynb"
    try:
        open_notebook(page, lab, TOKEN, path, in_place=True)
        ran = run_all(page, path)
        unanswered = [out for cell in ran["cells"] for out in cell["outputs"] if out["output_type"] == "error"]
        assert unanswered and all("还没有作答" in out["evalue"] for out in unanswered), unanswered
        result = page.evaluate(ANSWER_AND_CHECK, ["softmax-answer", WRONG_SOFTMAX])
        errors = [out for out in result["outputs"] if out["output_type"] == "error"]
        assert errors, result
        assert "你返回的是 exp(logits)：还要除以它们在这一行上的和。" in errors[0]["evalue"], errors[0]["evalue"]
        assert "✗" in result["shown"] and "返回了" in result["shown"], result["shown"]
        page.wait_for_timeout(300)
        shoot(page, "exercise-03-wrong-answer")
    except BaseException:
        shoot(page, "exercise-03-FAILED")
        raise
    finally:
        shut_down_kernel(page)
