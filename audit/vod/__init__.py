"""The wire to VOD: signing, keys, endpoints, the bounded transport, the client of each operation, typed answers."""
