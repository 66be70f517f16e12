"""The chat page's layout and events (Gradio); what each event does is in chat.py."""

from __future__ import annotations

import gradio as gr

from cqqa.ingest.formats import SUFFIXES
from cqqa.serve.chat import Chat, new_session
from cqqa.serve.render import sources_html
from cqqa.serve.site import Site

QUEUE_NOTE = ("A question asked while an answer is still being translated waits in the box and is answered as "
              "soon as that answer is complete. Conversations are kept on this server and listed for you.")
ASKING_AT_ONCE = 16  # questions answered at once, all pages together (retrieval takes turns; the reader: turns.py)


CSS = """
.cqqa-sources h3 { margin: 0 0 .5rem 0; }
.cqqa-cite, .cqqa-related { border: 1px solid var(--border-color-primary); border-radius: 8px;
                             padding: .6rem .8rem; margin-bottom: .6rem; }
.cqqa-related { opacity: .85; border-style: dashed; }
.cqqa-cite-head { font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.cqqa-n { font-weight: bold; color: var(--color-accent); }
.cqqa-passage { white-space: pre-wrap; margin: 0 0 .3rem 0; line-height: 1.6; }
.cqqa-passage mark { background: #fff3b0; color: inherit; }
.cqqa-open, .cqqa-share { font-size: .85rem; }
.cqqa-changed { font-size: .85rem; color: #8a5300; }
"""


def heading(site: Site) -> str:
    return f"## {site.title}\n{site.description}"


def build_ui(chat: Chat, secret: str, status, site: Site, site_now=None):
    """The page. `secret` encrypts what the browser keeps (stable across restarts); `status`
    yields the loading banner's text; `site` says what this deployment searches (site.py), and
    `site_now()` says it again as each page loads (an index built since names its articles). The
    "Add an article" link (/add) is shown to those who may add one (chat.account)."""
    with gr.Blocks(title=site.title, analytics_enabled=False) as ui:
        title = gr.Markdown(heading(site), elem_id="cqqa-title")
        session = gr.State(new_session())
        browser = gr.BrowserState({"key": "", "conversation": ""}, storage_key="cqqa-chat", secret=secret)
        banner = gr.Markdown("", elem_id="cqqa-status")
        with gr.Row():
            with gr.Column(scale=3):
                # no LaTeX: "$$\rule{3000px}{3000px}$$" in an article would cover the chat, and a
                # white \llap over a digit would make a quote say what the article does not
                chatbot = gr.Chatbot(elem_id="cqqa-chat", height=520, render_markdown=False, latex_delimiters=[],
                                     examples=[{"text": q} for q in site.examples] or None,
                                     placeholder="Ask about the articles in English or Chinese.")
                with gr.Row():
                    box = gr.Textbox(elem_id="cqqa-question", show_label=False, scale=5, autofocus=True,
                                     placeholder=("Ask in English or Chinese, e.g. " + site.examples[0]
                                                  if site.examples else "Ask in English or Chinese"))
                    send = gr.Button("Ask", elem_id="cqqa-ask", variant="primary", scale=1)
                gr.Markdown(QUEUE_NOTE, elem_id="cqqa-queue-note")
                # with users, shown once the page knows who is asking (chat.account): readers do not see it;
                # without, shown from the start (nothing moves under a click while the page loads)
                add_link = gr.HTML('<a id="cqqa-add" href="add" target="_blank" rel="noopener">➕ Add an article</a> '
                                   f'({" ".join(SUFFIXES)}; scans and images are read by OCR; indexed on this server, '
                                   "then you can ask about it)", visible=not chat.logins()) if chat.uploads else None
                account = gr.HTML("", elem_id="cqqa-account", visible=False)
                with gr.Row():
                    past = gr.Dropdown([], label="Past conversations", elem_id="cqqa-past", scale=4)
                    new = gr.Button("New conversation", elem_id="cqqa-clear", size="sm", scale=1)
                    delete = gr.Button("Delete this conversation", elem_id="cqqa-delete", size="sm", scale=1,
                                       variant="stop")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="cqqa-sources")
        wire(chat, ui, session, browser, banner, chatbot, box, send, past, new, delete, sources, status, site.examples)
        ui.load(chat.account, None, [account] + ([add_link] if add_link else []))
        if site_now is not None:
            ui.load(lambda: heading(site_now()), None, title, queue=False)
    return ui


def wire(chat: Chat, ui, session, browser, banner, chatbot, box, send, past, new, delete, sources, status,
         examples: tuple[str, ...]):
    """The page's events."""
    def example_text(data: gr.SelectData):
        index = data.index
        return examples[index] if isinstance(index, int) and 0 <= index < len(examples) else gr.skip()

    outputs = [chatbot, box, sources, session, browser, past]
    at_once = {"concurrency_limit": ASKING_AT_ONCE, "concurrency_id": "ask"}  # default: one question at a time
    asked = [box, session, browser]
    asking = [box.submit(chat.turn, asked, outputs, trigger_mode="always_last", **at_once),  # QUEUE_NOTE
              send.click(chat.turn, asked, outputs, trigger_mode="always_last", **at_once),
              chatbot.example_select(example_text, None, box).then(chat.turn, asked, outputs, **at_once)]
    chatbot.like(chat.like, [session], None, queue=False)
    chatbot.select(chat.select, [session], [sources], queue=False)
    opened = [chatbot, sources, session, browser, past]
    # An answer still being written stops when the user opens, starts or deletes a conversation.
    # Its own listener, registered first: Gradio cancels only after the handler's request when they
    # share one, and would then cancel a question asked just after the click.
    for trigger, handler, inputs, changed in [(past.input, chat.open, [past, session, browser], opened),
                                              (new.click, chat.new, [session, browser], outputs),
                                              (chatbot.clear, chat.new, [session, browser], outputs),
                                              (delete.click, chat.delete, [session, browser], outputs)]:
        trigger(None, None, None, cancels=asking)
        trigger(handler, inputs, changed)
    ui.load(chat.restore, [browser, session], opened)
    ui.load(status, None, banner)
