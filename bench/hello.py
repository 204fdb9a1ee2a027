"""The hello-world Flask application the HTTP benchmarks compare the platform against,
served by gunicorn with the project's own gunicorn.conf.py: `gunicorn -c gunicorn.conf.py bench.hello:app`."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello, world"
