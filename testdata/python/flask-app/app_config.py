# As the flask-web-app sample's app_config.py: server-side sessions in the filesystem.
import os

SESSION_TYPE = "filesystem"
SCOPE = os.getenv("SCOPE", "").split()
ENDPOINT = os.getenv("ENDPOINT")
