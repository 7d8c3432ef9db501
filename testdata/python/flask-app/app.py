"""A test app shaped like the flask-web-app quickstart sample: the identity package's Flask
integration (identity.flask.Auth) configured from .env (the Flask CLI loads it), a login-required
home page, a page that calls the API at ENDPOINT (Graph /me) with a token for SCOPE, and the
identity package's own /logout. Pages mark their links with ids for the tests' scripted browser.
Started by the tests with the sample's own command, flask --debug run, through entra-quickstart run.
"""
import os

import requests
from flask import Flask, render_template
from identity.flask import Auth

import app_config

app = Flask(__name__)
app.config.from_object(app_config)
auth = Auth(
    app,
    authority=os.getenv("AUTHORITY"),
    client_id=os.getenv("CLIENT_ID"),
    client_credential=os.getenv("CLIENT_SECRET"),
    redirect_uri=os.getenv("REDIRECT_URI"),
)


@app.route("/")
@auth.login_required
def index(*, context):
    return render_template("index.html", user=context["user"])


@app.route("/call_api")
@auth.login_required(scopes=app_config.SCOPE)
def call_api(*, context):
    api_result = requests.get(
        app_config.ENDPOINT,
        headers={"Authorization": "Bearer " + context["access_token"]},
        timeout=30,
    ).json()
    return render_template("display.html", result=api_result)
