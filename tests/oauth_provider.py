"""An OpenID provider on loopback, built from Authlib's server side (the Flask integration):
discovery, JWKS, the authorization endpoint (consent is given for `provider.user`), the token
endpoint with PKCE and OpenID Connect ID tokens, userinfo, and GitHub-style `/user` and
`/user/emails` APIs for the OAuth 2.0 providers.

`provider.tamper` makes the next ID tokens wrong in one way ("signature": signed with a key
that is not published; "audience": for another client; "issuer"; "expired"; "nonce": another
sign-in's), so the client's checks can be seen to hold.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from werkzeug.serving import make_server


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    # Apple's client secret is a JWT the client signs; the provider checks it with this key.
    secret_jwt_key: ECKey | None = None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_jwt_key is not None:
            try:
                token = jwt.decode(client_secret, self.secret_jwt_key, algorithms=["ES256"])
            except ValueError:
                return False
            claims = token.claims
            return bool(claims.get("sub") == self.client_id and claims.get("exp", 0) > time.time())
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return ""

    def get_amr(self) -> list[str]:
        return []


@dataclass
class Provider:
    base: str = ""
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Who consents at the authorization endpoint: OpenID claims (sub, email, email_verified,
    # name) and, for the GitHub-style API, `emails`.
    user: dict[str, Any] = field(default_factory=dict)
    tamper: str | None = None
    # Like Microsoft's multi-tenant endpoints: discovery names the issuer with a {tenantid}
    # placeholder and each token carries its tenant's issuer and `tid`.
    tenant: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    rogue: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"{self.base}/{{tenantid}}/v2.0" if self.tenant else self.base


def _app(provider: Provider) -> Flask:
    app = Flask(__name__)

    class MyOpenIDCode(OpenIDCode):
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return any(c.nonce == nonce for c in provider.codes.values())

        def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
            claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
            if provider.tamper == "nonce":
                claims["nonce"] = "a-nonce-from-another-sign-in"
            return claims

        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return provider.rogue if provider.tamper == "signature" else provider.key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": "k1"}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            now = int(time.time())
            audience = "someone-else" if provider.tamper == "audience" else client.client_id
            claims: dict[str, Any] = {"iss": provider.issuer, "aud": [audience]}
            if provider.tamper == "issuer":
                claims["iss"] = "https://issuer.invalid"
            if provider.tenant:
                claims |= {"iss": f"{provider.base}/{provider.tenant}/v2.0", "tid": provider.tenant}
            if provider.tamper == "expired":
                claims |= {"iat": now - 7200, "exp": now - 3600, "auth_time": now - 7200}
            else:
                claims |= {"iat": now, "exp": now + 600}
            return claims

        def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
            return UserInfo(
                {k: v for k, v in user.items() if k in ("sub", "email", "email_verified", "name")}
            )

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            provider.codes[code] = Code(
                code=code,
                client_id=req.client.client_id,
                redirect_uri=req.payload.redirect_uri,
                scope=req.payload.scope,
                user=dict(req.user),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = provider.codes.get(code)
            return found if found is not None and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return authorization_code.user

    def save_token(token: dict[str, Any], req: Any) -> None:
        provider.tokens[token["access_token"]] = dict(req.user)

    server = AuthorizationServer(app, query_client=provider.clients.get, save_token=save_token)
    server.register_grant(
        CodeGrant, [MyOpenIDCode(require_nonce=False), CodeChallenge(required=True)]
    )

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=provider.issuer,
            authorization_endpoint=f"{provider.base}/authorize",
            token_endpoint=f"{provider.base}/token",
            userinfo_endpoint=f"{provider.base}/userinfo",
            jwks_uri=f"{provider.base}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(keys=[provider.key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize() -> Any:
        grant = server.get_consent_grant(end_user=provider.user)
        return server.create_authorization_response(grant=grant, grant_user=provider.user)

    @app.post("/token")
    def token() -> Any:
        provider.token_requests.append(dict(request.form))
        return server.create_token_response()

    def _bearer() -> dict[str, Any] | None:
        header = request.headers.get("Authorization", "")
        return provider.tokens.get(header.removeprefix("Bearer ").removeprefix("token "))

    @app.get("/userinfo")
    def userinfo() -> Any:
        user = _bearer()
        return (jsonify(user), 200) if user else (jsonify(message="Bad credentials"), 401)

    @app.get("/user")
    def github_user() -> Any:
        user = _bearer()
        if user is None:
            return jsonify(message="Bad credentials"), 401
        return jsonify(
            id=int(user["sub"]), login=user.get("login"), name=user.get("name"), email=None
        )

    @app.get("/user/emails")
    def github_emails() -> Any:
        user = _bearer()
        if user is None:
            return jsonify(message="Bad credentials"), 401
        return jsonify(user.get("emails", []))

    @app.get("/me")
    def facebook_me() -> Any:
        user = _bearer() or provider.tokens.get(request.args.get("access_token", ""))
        if user is None:
            return jsonify(error={"message": "Invalid OAuth access token."}), 400
        return jsonify(id=user["sub"], name=user.get("name"), email=user.get("email"))

    return app


@contextmanager
def openid_provider() -> Iterator[Provider]:
    provider = Provider()
    server = make_server("127.0.0.1", 0, _app(provider), threaded=True)
    provider.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
