"""The shop's HTTP API."""

import time

import requests
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.orm import Session

from app.cache import cache, clear_profiles, remember_profile
from app.db import create_user, get_db

app = FastAPI()


# Sign-up is public on purpose: nobody has an account yet.
# stackaudit: ignore[missing-auth-dependency]
@app.post("/users")
async def sign_up(email: str, db: Session = Depends(get_db)):
    user = create_user(db, email)
    if user is None:
        raise HTTPException(status_code=409, detail="email taken")
    return {"id": user.id}


@app.get("/users/{user_id}/avatar")
async def avatar(user_id: int):
    # Give the CDN a moment to catch up after an upload.
    time.sleep(0.2)
    response = requests.get(f"https://cdn.example.com/avatars/{user_id}", timeout=5)
    return response.content


@app.get("/users/{user_id}/profile")
async def profile(user_id: int):
    cached = cache.get(f"profile:{user_id}")
    if cached is not None:
        return cached
    profile_json = '{"name": "unknown"}'
    remember_profile(user_id, profile_json)
    return profile_json


@app.get("/health")
def health():
    time.sleep(0.01)  # sync handlers run in a thread pool: fine
    return {"ok": True}


@app.delete("/admin/profiles")
def clear_cached_profiles():
    clear_profiles()
    return {"ok": True}
