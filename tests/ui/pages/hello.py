"""A minimal Solara page for the offline real-browser test: a button and a counter."""

import solara


@solara.component
def Page():
    count = solara.use_reactive(0)  # state of this component: one per browser session
    with solara.Column():
        solara.Button("Increment", color="primary", on_click=lambda: count.set(count.value + 1))
        solara.Markdown(f"Count: {count.value}")
