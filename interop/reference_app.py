"""The seed app as flask-jwt-extended 4.7 + marshmallow run it: the reference for our contract.

It is the tutorial's app with its plain-text password replaced by nothing at all (the check is
the same equality) and a user loader, so a token for a missing user fails as the issue states.
"""
from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager, create_access_token, create_refresh_token, get_jwt_identity, jwt_required,
)
from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Length

USERS = {"cosmo": {"id": 1, "username": "cosmo", "password": "space-corgi"}}


class LoginSchema(Schema):
    username = fields.Str(required=True, validate=Length(min=1))
    password = fields.Str(required=True, validate=Length(min=1))


def create_app(secret):
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = secret
    jwt = JWTManager(app)

    @jwt.user_lookup_loader
    def load_user(_header, data):
        return USERS.get(data["sub"])

    @app.route("/login", methods=["POST"])
    def login():
        try:
            data = LoginSchema().load(request.get_json())
        except ValidationError as err:
            return jsonify(error=err.messages), 400
        user = USERS.get(data["username"])
        if user and user["password"] == data["password"]:
            return jsonify(access_token=create_access_token(identity=data["username"]),
                           refresh_token=create_refresh_token(identity=data["username"])), 200
        return jsonify(error="Bad username or password"), 401

    @app.route("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    def refresh():
        return jsonify(access_token=create_access_token(identity=get_jwt_identity(), fresh=False)), 200

    @app.route("/profile", methods=["GET"])
    @jwt_required()
    def profile():
        user = USERS[get_jwt_identity()]
        return jsonify(logged_in_as=get_jwt_identity(), id=user["id"], username=user["username"]), 200

    return app
