from django.test import Client


class HealthTests:
    def test_it_answers_200_when_the_database_is_up(self, db):
        response = Client().get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}

    def test_it_sends_a_request_id_and_no_store(self, db):
        response = Client().get("/healthz")
        assert len(response["X-Request-ID"]) == 16
        assert "no-store" in response["Cache-Control"]

    def test_the_home_page_asks_for_a_login(self, world):
        response = Client().get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
