"""The OpenAPI 3.1 description of the sync API, served at /api/v1/openapi.json."""

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "In the user's language."},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Field path (e.g. answers.greeted) to what is wrong with it."},
                "field_codes": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "Field path to a code for the problem: required, comment_required, "
                                               "photo_required, too_large, negative, out_of_range, not_a_number..."},
            },
        }
    },
}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_VISIT_ID = {"name": "visit_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_CSRF = {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "The CSRF token of the page (meta or hidden field csrf_token)."}


def openapi_document():
    """The API description as a dict (JSON-serialisable)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mystery shopper audit: sync API",
            "version": "1",
            "description": "What the shopper's phone uses to fetch assigned visits and to send answers and "
                           "photos. A visit is sent exactly once: a resend of the same content is answered "
                           "200 'already_received', different content 409 unless the visit was returned.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "audit_session"}},
            "schemas": {
                "Error": _ERROR,
                "Visit": {
                    "type": "object",
                    "required": ["id", "state", "branch", "planned_from", "planned_to"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "state": {"type": "string", "enum": ["assigned", "draft", "submitted", "returned", "approved"]},
                        "branch": {"type": "object"},
                        "planned_from": {"type": "string", "format": "date"},
                        "planned_to": {"type": "string", "format": "date"},
                        "scenario": {"type": "string"},
                        "review_comment": {"type": "string"},
                        "checklist_version": {"type": "integer"},
                        "fill_url": {"type": "string"},
                        "checklist": {"type": "object", "description": "The pinned checklist version (one visit only)."},
                    },
                },
                "Submission": {
                    "type": "object",
                    "required": ["answers"],
                    "properties": {
                        "answers": {"type": "object", "description": "Item id to answer: yes/no, a number, an option id, text, or na.",
                                    "additionalProperties": {"type": ["string", "number"]}},
                        "comments": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 4000}},
                        "photos": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string", "maxLength": 64}},
                                   "description": "Item id to the client ids of its photos, uploaded first. Every "
                                   "photo the visit keeps: one uploaded before and not listed is removed. Left "
                                   "out, the photos uploaded stay as they are."},
                        "started_at": {"type": "string", "format": "date-time"},
                        "ended_at": {"type": "string", "format": "date-time",
                                     "description": "When the shopper tapped Send. Kept when the sending is "
                                     "changed on the phone while it is on its way: a sent visit then takes the "
                                     "change, until its review begins"},
                        "changed_at": {"type": "string", "format": "date-time",
                                       "description": "When the phone last changed this sending: of two copies "
                                       "of a changed sending, the older one does not replace the newer"},
                        "location": {"type": "object", "required": ["lat", "lon"],
                                     "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                                                    "lon": {"type": "number", "minimum": -180, "maximum": 180}}},
                    },
                },
                "Receipt": {
                    "type": "object",
                    "properties": {"status": {"type": "string", "enum": ["received", "already_received"]},
                                   "message": {"type": "string"}, "visit": {"type": "string"},
                                   "client_id": {"type": "string"}},
                },
            },
        },
        "security": [{"session": []}],
        "paths": {
            "/visits": {"get": {
                "summary": "The signed-in shopper's open visits",
                "responses": {"200": {"description": "Visits to do, drafts and returned visits",
                                      "content": {"application/json": {"schema": {
                                          "type": "object", "properties": {"visits": {"type": "array", "items": {"$ref": "#/components/schemas/Visit"}}}}}}},
                              "401": _error("Not signed in")},
            }},
            "/visits/{visit_id}": {"get": {
                "summary": "One visit with its pinned checklist",
                "parameters": [_VISIT_ID],
                "responses": {"200": {"description": "The visit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Visit"}}}},
                              "401": _error("Not signed in"), "404": _error("No such visit of this shopper")},
            }},
            "/visits/{visit_id}/submission": {"post": {
                "summary": "Send a finished visit (idempotent)",
                "parameters": [_VISIT_ID, _CSRF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}},
                "responses": {
                    "201": {"description": "Received", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "200": {"description": "The same submission had already arrived", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "400": _error("Not JSON, or no CSRF token"), "401": _error("Not signed in"),
                    "404": _error("No such visit of this shopper"),
                    "409": _error("Already sent with different answers (and not a change of that sending, or its review has begun)"),
                    "413": _error("Too large"), "422": _error("Answers that cannot be used, by field"),
                },
            }},
            "/visits/{visit_id}/photos": {"post": {
                "summary": "Upload one photo of a visit (idempotent by client_id)",
                "parameters": [_VISIT_ID, _CSRF],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["client_id", "item_id", "file"],
                    "properties": {"client_id": {"type": "string", "maxLength": 64}, "item_id": {"type": "string"},
                                   "file": {"type": "string", "format": "binary"},
                                   "taken_at": {"type": "string", "description": "When the camera took the photo, as "
                                                "its EXIF DateTimeOriginal says (2026:11:26 10:15:30), read before "
                                                "the phone shrank it; used when the file has no capture time"},
                                   "taken_offset": {"type": "string", "description": "Its zone's offset "
                                                    "(OffsetTimeOriginal, +01:00)"},
                                   "ended_at": {"type": "string", "format": "date-time", "description": "The "
                                                "ended_at of the submission the photo goes with: a sent visit takes "
                                                "the photo of a change of that sending, until its review begins"}}}}}},
                "responses": {
                    "201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "200": {"description": "Already stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "400": _error("No CSRF token"), "401": _error("Not signed in"), "404": _error("No such visit"),
                    "409": _error("The photo id belongs to another visit, or the visit was sent"), "413": _error("Too large"),
                    "422": _error("Not an acceptable image, or missing fields"),
                },
            }},
        },
    }
