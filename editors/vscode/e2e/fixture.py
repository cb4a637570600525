import time


async def handler():
    time.sleep(1)
    return 1


def close_quietly(resource):
    try:
        resource.close()
    except Exception:
        pass
