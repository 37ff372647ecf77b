# Memory limit exceeded: keeps appending 16 MiB byte arrays (filled, so really used) forever.
chunks = []
while True:
    chunks.append(bytearray(b"x") * (16 << 20))
