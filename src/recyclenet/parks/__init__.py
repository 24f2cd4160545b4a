"""Industrial parks: allocation of streams to receivers, collection, shared facilities."""
