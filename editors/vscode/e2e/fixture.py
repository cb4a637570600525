import time


async def handler():
    time.sleep(1)
    return 1
