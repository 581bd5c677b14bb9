"""The app starts on both databases and a user can sign in."""

from tests.api.factories import Api


async def test_health_and_login(api: Api) -> None:
    assert (await api.client.get("/health")).json() == {"status": "ok"}
    user = await api.signed_in()
    profile = await api.client.get("/users/profile", headers=user.headers)
    assert profile.status_code == 200
    assert profile.json()["email"] == user.email
