"""python3-saml (OneLogin's toolkit, Debian's python3-onelogin-saml2) as a
strict SAML service provider, driven by python3saml_test.go.

It reads one JSON object a line on stdin and answers one a line on stdout:

  {"op": "login", "settings": {...}}
      -> {"url": <HTTP-Redirect URL of python3-saml's AuthnRequest>,
          "request_id": <its ID>}
  {"op": "acs", "settings": {...}, "acs": <ACS URL>, "saml_response": <b64>,
   "request_id": <ID or null>}
      -> {"authenticated": bool, "errors": [...], "reason": str,
          "nameid": str, "attributes": {...}}

"settings" is python3-saml's settings dict (strict, with schema
validation). Nothing here opens a socket: the Go test does the HTTP.
"""
import json
import sys
from urllib.parse import urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth


def request_data(acs, post=None):
    u = urlsplit(acs)
    return {
        "https": "on" if u.scheme == "https" else "off",
        "http_host": u.netloc,  # host:port, as python3-saml wants it
        "script_name": u.path,
        "get_data": {},
        "post_data": post or {},
    }


def handle(msg):
    settings = msg["settings"]
    acs = settings["sp"]["assertionConsumerService"]["url"]
    if msg["op"] == "login":
        auth = OneLogin_Saml2_Auth(request_data(acs), old_settings=settings)
        url = auth.login(set_nameid_policy=True)
        return {"url": url, "request_id": auth.get_last_request_id()}
    if msg["op"] == "acs":
        auth = OneLogin_Saml2_Auth(
            request_data(msg["acs"], {"SAMLResponse": msg["saml_response"]}),
            old_settings=settings,
        )
        try:
            auth.process_response(request_id=msg.get("request_id"))
        except Exception as e:  # python3-saml raises for some malformed input
            return {"authenticated": False, "errors": ["exception"],
                    "reason": "%s: %s" % (type(e).__name__, e)}
        return {
            "authenticated": auth.is_authenticated(),
            "errors": auth.get_errors(),
            "reason": auth.get_last_error_reason() or "",
            "nameid": auth.get_nameid() or "",
            "attributes": auth.get_attributes() or {},
        }
    raise ValueError("unknown op %r" % msg["op"])


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = handle(json.loads(line))
        except Exception as e:
            out = {"fatal": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
