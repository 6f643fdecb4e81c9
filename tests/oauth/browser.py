"""A user's browser in the sign-in dance, played by httpx: one redirect at a time, the provider's
development login and consent pages filled in with form posts, up to the frontend.

The app is served in-process at SERVER; the provider is real, over the network. FRONTEND is never
contacted: a redirect there ends the dance, and `Landing` reads where it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import httpx

SERVER = "http://peerprep.test"
FRONTEND = "http://frontend.test"
CALLBACK = f"{SERVER}/auth/oauth-success"


@dataclass(frozen=True)
class Landing:
    """Where a redirect to the frontend lands: the page (`oauth-success`, `oauth-error`) and its query."""

    page: str
    params: dict[str, str]
    response: httpx.Response

    @classmethod
    def of(cls, response: httpx.Response) -> Landing:
        assert response.status_code == 302, (response.status_code, response.text)
        url = httpx.URL(response.headers["location"])
        assert f"{url.scheme}://{url.host}" == FRONTEND, url
        return cls(url.path.strip("/"), dict(url.params), response)


class _Page(HTMLParser):
    """The forms (action and hidden fields) and the links of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values["action"], {}))
        elif tag == "input" and values.get("type") == "hidden" and self.forms:
            self.forms[-1][1][values["name"]] = values.get("value", "")
        elif tag == "a" and "href" in values:
            self.links.append(values["href"])


class Browser:
    def __init__(self, app) -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(mounts={SERVER: transport}, trust_env=False)

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.client.aclose()

    async def start(self) -> httpx.Response:
        """The "Sign in with Google" button."""
        return await self.client.get(f"{SERVER}/auth/oauth/google")

    async def to_callback(self, login: str, *, consent: bool = True) -> httpx.URL:
        """Signs in as `login` at the provider: the callback URL it sends the browser to, not yet visited.

        With `consent=False` the user presses Cancel on the consent page.
        """
        response = await self.start()
        while True:
            if response.is_redirect:
                location = response.url.join(response.headers["location"])
                if str(location).startswith((CALLBACK, FRONTEND)):
                    return location
                response = await self.client.get(location)
            elif response.status_code == 200 and response.headers["content-type"].startswith("text/html"):
                response = await self._answer(_Page(response.text), response.url, login, consent)
            else:
                raise AssertionError(f"{response.status_code} from {response.url}: {response.text[:500]}")

    async def _answer(self, page: _Page, url: httpx.URL, login: str, consent: bool) -> httpx.Response:
        action, fields = page.forms[0]
        if fields["prompt"] == "login":
            return await self.client.post(url.join(action), data={**fields, "login": login, "password": "any"})
        if consent:
            return await self.client.post(url.join(action), data=fields)
        cancel = next(link for link in page.links if link.endswith("/abort"))
        return await self.client.get(url.join(cancel))

    async def land(self, callback: httpx.URL, **request) -> Landing:
        """Visits the callback (the provider's redirect), which redirects to the frontend."""
        return Landing.of(await self.client.get(callback, **request))

    async def sign_in(self, login: str, *, consent: bool = True) -> Landing:
        return await self.land(await self.to_callback(login, consent=consent))
