"""One page whose content appears after its on_load event ran on the backend — the same
round trip (JS bundle, websocket, state hydration, one event) the candidate page needs before
its interview UI shows. Served on a static and on a dynamic route."""

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
# The same page on a dynamic route like the candidate's /interview/[token]: Reflex does not
# prerender such a route, so its code is fetched only after the app shell has started.
app.add_page(index, route="/t/[token]", on_load=PageState.load)
