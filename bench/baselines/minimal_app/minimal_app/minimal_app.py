"""One page whose content appears after its on_load event ran on the backend — the same
round trip (JS bundle, websocket, state hydration, one event) the candidate page needs before
its interview UI shows."""

import reflex as rx


class PageState(rx.State):
    loaded: bool = False

    @rx.event
    def load(self) -> None:
        self.loaded = True


def index() -> rx.Component:
    return rx.cond(
        PageState.loaded,
        rx.heading("Ready", id="ready"),
        rx.text("Loading…", id="loading"),
    )


app = rx.App()
app.add_page(index, route="/", on_load=PageState.load)
