"""Database access for the shop API (SQLAlchemy 2.x)."""

import psycopg2
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models import Order, User

engine = create_engine("postgresql+psycopg2://shop@db/shop", pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def create_user(db: Session, email: str) -> User | None:
    user = User(email=email)
    try:
        db.add(user)
        db.commit()
    except IntegrityError:
        return None
    return user


def place_order(db: Session, user_id: int, total: int) -> Order:
    with db.begin():
        order = Order(user_id=user_id, total=total)
        db.add(order)
    return order


def nightly_cleanup():
    db = SessionLocal()
    db.query(Order).filter(Order.total == 0).delete()
    db.commit()
    db.close()


def record_refund(order_id: int):
    conn = psycopg2.connect("dbname=shop")
    try:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE orders SET refunded = true WHERE id = %s", (order_id,))
        conn.commit()
    except psycopg2.Error:
        conn.rollback()
        raise
    finally:
        conn.close()
