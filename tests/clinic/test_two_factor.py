"""Staff log in in two steps (password, then an authenticator code); patients may choose to."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, current_code

pytestmark = pytest.mark.django_db


def _wait_out_throttling(user) -> None:
    """As if the person waited: a wrong code delays the next try (django-otp throttling)."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )


def _password_login(user) -> tuple[Client, object]:
    client = Client()
    response = client.post(
        reverse("login"), {"username": user.email, "password": PASSWORD}, follow=True
    )
    return client, response


@pytest.mark.parametrize("persona", ["front_desk", "practitioner", "manager"])
def test_staff_cannot_open_any_page_before_the_second_step(request, persona, patient):
    person = request.getfixturevalue(persona)
    user = getattr(person, "user", person)
    client, response = _password_login(user)
    assert response.redirect_chain[-1][0].startswith(reverse("clinic:two_factor_setup"))
    for url in [
        reverse("clinic:home"),
        reverse("admin:index"),
        reverse("booking:appointment_detail", args=[1]),
    ]:
        page = client.get(url)
        assert page.status_code == 302 and page.url.startswith(reverse("clinic:two_factor_setup"))


def test_setting_up_the_authenticator_gives_recovery_codes_and_opens_the_pages(front_desk):
    client, response = _password_login(front_desk)
    setup = response.redirect_chain[-1][0]
    device = TOTPDevice.objects.get(user=front_desk)
    wrong = client.post(setup, {"token": "000000"})
    assert "did not match" in wrong.content.decode()
    _wait_out_throttling(front_desk)
    done = client.post(setup, {"token": current_code(device)})
    assert len(done.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("clinic:front_desk_home")).status_code == 200


def test_next_time_the_code_is_asked_and_a_recovery_code_works_once(front_desk):
    client, response = _password_login(front_desk)
    client.post(
        response.redirect_chain[-1][0],
        {"token": current_code(TOTPDevice.objects.get(user=front_desk))},
    )
    code = StaticToken.objects.filter(device__user=front_desk).first().token

    client2, response = _password_login(front_desk)
    verify = response.redirect_chain[-1][0]
    assert verify.startswith(reverse("clinic:two_factor_verify"))
    assert "did not work" in client2.post(verify, {"token": "123456"}).content.decode()
    assert "wait" in client2.post(verify, {"token": code}).content.decode()  # too fast after a miss
    _wait_out_throttling(front_desk)
    assert client2.post(verify, {"token": code}).status_code == 302
    assert client2.get(reverse("clinic:front_desk_home")).status_code == 200

    _wait_out_throttling(front_desk)
    client3, response = _password_login(front_desk)
    used_again = client3.post(response.redirect_chain[-1][0], {"token": code})
    assert "did not work" in used_again.content.decode()


def test_the_admin_also_needs_the_second_step(manager):
    client = Client()
    client.post(reverse("admin:login"), {"username": manager.email, "password": PASSWORD})
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "two-step" in response.url


def test_patients_log_in_with_a_password_unless_they_turn_two_step_on(patient):
    client, response = _password_login(patient.user)
    assert response.redirect_chain[-1][0] == reverse("clinic:patient_home")
    client.get(reverse("clinic:two_factor_setup"))
    device = TOTPDevice.objects.get(user=patient.user)
    client.post(reverse("clinic:two_factor_setup"), {"token": current_code(device)})

    recovery = StaticToken.objects.filter(device__user=patient.user).first().token
    client2, response = _password_login(patient.user)
    assert response.redirect_chain[-1][0].startswith(reverse("clinic:two_factor_verify"))
    client2.post(response.redirect_chain[-1][0], {"token": recovery})
    # Turning it off needs the password.
    refused = client2.post(
        reverse("clinic:two_factor_manage"), {"action": "off", "password": "wrong"}
    )
    assert "That is not your password" in refused.content.decode()
    client2.post(reverse("clinic:two_factor_manage"), {"action": "off", "password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=patient.user).exists()


def test_staff_cannot_turn_two_step_off(login, front_desk):
    client = login(front_desk)
    client.post(reverse("clinic:two_factor_manage"), {"action": "off", "password": PASSWORD})
    assert TOTPDevice.objects.filter(user=front_desk, confirmed=True).exists()


def test_the_next_address_cannot_send_the_user_elsewhere(front_desk):
    client, response = _password_login(front_desk)
    device = TOTPDevice.objects.get(user=front_desk)
    done = client.post(
        reverse("clinic:two_factor_setup") + "?next=https://evil.example/",
        {"token": current_code(device), "next": "https://evil.example/"},
    )
    assert done.context["next"] == reverse("clinic:home")


def _staff_menu_links(html: str) -> list[str]:
    urls = [
        reverse("clinic:front_desk_home"),
        reverse("booking:schedule"),
        reverse("booking:requests_queue"),
        reverse("intake:intake_list"),
        reverse("booking:email_problems"),
    ]
    return [url for url in urls if f'href="{url}"' in html]


def test_the_code_page_shows_no_staff_menu_until_the_code_is_given(front_desk):
    device = TOTPDevice.objects.create(user=front_desk, name="Phone", confirmed=True)
    client, response = _password_login(front_desk)
    code_page = response.redirect_chain[-1][0]
    assert code_page.startswith(reverse("clinic:two_factor_verify"))
    html = response.content.decode()
    assert _staff_menu_links(html) == []
    assert f'action="{reverse("logout")}"' in html

    done = client.post(code_page, {"token": current_code(device)})
    assert done.status_code == 302
    home = client.get(reverse("clinic:front_desk_home")).content.decode()
    assert len(_staff_menu_links(home)) == 5


def test_the_set_up_page_shows_no_staff_menu_either(manager):
    client, response = _password_login(manager)
    assert response.redirect_chain[-1][0].startswith(reverse("clinic:two_factor_setup"))
    html = response.content.decode()
    assert reverse("clinic:access_log") not in html
    assert reverse("booking:reports") not in html
