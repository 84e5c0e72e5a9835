"""`/docs` works offline: the page names no outside host and every asset it loads is served here."""

from __future__ import annotations

import re

import httpx


def test_docs_page_loads_only_local_assets(live_server) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        page = http.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        spec = re.search(r"url: '([^']+)'", page.text).group(1)
        assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        assert "http://" not in page.text and "https://" not in page.text
        for asset in assets:
            answer = http.get(asset)
            assert answer.status_code == 200 and len(answer.content) > 500, asset
        assert http.get(spec).json()["info"]["title"] == "Tandem REST API"
        assert "SwaggerUIBundle" in http.get(next(a for a in assets if a.endswith(".js"))).text
