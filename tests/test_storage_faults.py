"""Faults of storage: a full disk or unwritable MEDIA_DIR gives a clear error and loses nothing."""
import io
import os

from PIL import Image

from audit.db import database


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


def test_media_prune_removes_only_old_files_no_row_refers_to(app, org):
    """`flask media prune` clears what a crash mid-upload or a replaced logo leaves behind: files no
    row refers to, older than the given age. Recorded photos and logos, files of uploads still in
    progress (young) and everything outside photos/ and logos/ stay; --dry-run only lists."""
    import time
    from datetime import date

    from audit import ROOT
    from audit.media import store_logo
    from audit.models import Brand, Evidence, Visit
    from audit.operations import add_photo, publish_checklist_file
    from tests_support import tiny_png

    media = app.config["MEDIA_DIR"]
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        evidence, _ = add_photo(visit, "kept-photo", "shop_front", tiny_png(), media, 2**20, 10**6)
        brand = Brand.get_by_id(org["brands"][0].id)
        old_logo = store_logo(tiny_png(), media, 2**20, 10**6)
        brand.logo_file = store_logo(tiny_png(colour="#ff0000"), media, 2**20, 10**6)  # the logo replaced
        brand.save()
    hour_ago = time.time() - 2 * 3600
    leftovers = {"photos/crashed-upload.jpg": b"x" * 1000, "photos/in-progress.jpg": b"y"}
    for relative, data in leftovers.items():
        with open(os.path.join(media, relative), "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(media, "exports"), exist_ok=True)
    with open(os.path.join(media, "exports", "region.zip"), "wb") as f:
        f.write(b"zip")
    for relative in ("photos/crashed-upload.jpg", f"logos/{old_logo}", f"photos/{evidence.file_name}",
                     f"logos/{brand.logo_file}", "exports/region.zip"):
        os.utime(os.path.join(media, relative), (hour_ago, hour_ago))

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["media", "prune", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert sorted(listed.output.splitlines()[:-1]) == sorted(["photos/crashed-upload.jpg", f"logos/{old_logo}"])
    assert listed.output.splitlines()[-1].startswith("Would remove 2 unreferenced file(s)")
    assert os.path.exists(os.path.join(media, "photos", "crashed-upload.jpg"))

    pruned = runner.invoke(args=["media", "prune"])
    assert pruned.exit_code == 0, pruned.output
    assert pruned.output.splitlines()[-1].startswith("Removed 2 unreferenced file(s)")
    remaining = {os.path.join(folder, name) for folder in ("photos", "logos", "exports")
                 for name in os.listdir(os.path.join(media, folder))}
    assert remaining == {f"photos/{evidence.file_name}", "photos/in-progress.jpg", f"logos/{brand.logo_file}",
                         "exports/region.zip"}
    with app.app_context(), database.connection_context():
        assert Evidence.select().count() == 1  # rows are never touched
    # The young file goes once it is older than the age asked for.
    young = os.path.join(media, "photos", "in-progress.jpg")
    assert runner.invoke(args=["media", "prune", "--min-age-minutes", "1"]).exit_code == 0
    assert os.path.exists(young)
    os.utime(young, (time.time() - 120, time.time() - 120))
    assert runner.invoke(args=["media", "prune", "--min-age-minutes", "1"]).output.startswith("photos/in-progress.jpg")
    assert not os.path.exists(young) and os.path.exists(os.path.join(media, "photos", evidence.file_name))
