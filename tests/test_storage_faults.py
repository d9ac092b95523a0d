"""Faults of storage: a full disk or unwritable MEDIA_DIR gives a clear error and loses nothing."""
import io

from PIL import Image


def _photo():
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "#3a6ea5").save(buffer, "JPEG")
    return buffer.getvalue()


def test_an_unwritable_media_folder_gives_a_clear_503_and_the_phone_keeps_the_photo(app, org):
    import os
    import stat
    from datetime import date

    from audit import ROOT
    from audit.db import database
    from audit.models import Evidence, Visit
    from audit.operations import publish_checklist_file
    from conftest import csrf_from, login

    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
    client = app.test_client()
    login(client, "shopper@example.com")
    token = csrf_from(client.get("/visits/"))
    media = app.config["MEDIA_DIR"]
    os.makedirs(os.path.join(media, "photos"), exist_ok=True)
    os.chmod(os.path.join(media, "photos"), stat.S_IRUSR | stat.S_IXUSR)
    blocked = os.geteuid() == 0  # root writes anyway: make the folder a file instead
    if blocked:
        os.chmod(os.path.join(media, "photos"), 0o755)
        os.rmdir(os.path.join(media, "photos"))
        open(os.path.join(media, "photos"), "w").close()
    try:
        response = client.post(f"/api/v1/visits/{visit.uuid}/photos", headers={"X-CSRFToken": token},
                               data={"client_id": "p1", "item_id": "shop_front",
                                     "file": (io.BytesIO(_photo()), "p.jpg")}, content_type="multipart/form-data")
    finally:
        if blocked:
            os.remove(os.path.join(media, "photos"))
        else:
            os.chmod(os.path.join(media, "photos"), 0o755)
    assert response.status_code == 503  # the outbox retries 5xx: the photo stays on the phone
    assert "stays on this phone" in response.get_json()["error"]["message"]
    with app.app_context(), database.connection_context():
        assert Evidence.select().count() == 0
