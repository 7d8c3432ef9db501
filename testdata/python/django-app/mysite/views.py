"""Views shaped like the django-web-app sample's: a login-required index and call_api, which calls
ENDPOINT (Graph /me) with a token for SCOPE."""
import json
import os

import requests
from django.conf import settings
from django.shortcuts import render


@settings.AUTH.login_required
def index(request, *, context):
    return render(request, "index.html", {"user": context["user"]})


@settings.AUTH.login_required(scopes=os.getenv("SCOPE", "").split())
def call_api(request, *, context):
    api_result = requests.get(
        os.getenv("ENDPOINT"),
        headers={"Authorization": "Bearer " + context["access_token"]},
        timeout=30,
    ).json()
    return render(request, "display.html", {"content": json.dumps(api_result)})
