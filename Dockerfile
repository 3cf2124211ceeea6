# The Verbinders API and projection worker, for a deployment with a PostgreSQL server.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim
RUN useradd --system --uid 10001 verbinders
COPY --from=build /install /usr/local
USER verbinders
ENV VERBINDERS_HOST=0.0.0.0 \
    VERBINDERS_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status == 200 else 1)"
ENTRYPOINT ["verbinders"]
CMD ["serve"]
