# Tandem: `tandem serve` by default; `tandem run` and `tandem init` from the same image (see compose.yaml).
# Built from the pinned lock, on a slim base, running as an unprivileged user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY tandem ./tandem
RUN python -m venv /opt/tandem \
    && /opt/tandem/bin/pip install --no-cache-dir --disable-pip-version-check -c requirements.lock .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/tandem tandem
COPY --from=build /opt/tandem /opt/tandem
ENV PATH=/opt/tandem/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TANDEM_DATABASE_URL=sqlite:////var/lib/tandem/tandem.db
WORKDIR /var/lib/tandem
USER tandem
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
CMD ["tandem", "--log-format", "json", "serve", "--host", "0.0.0.0", "--port", "8080"]
