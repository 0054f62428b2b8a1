"""The behaviour of Loom: async services over NATS, shared by every adapter."""
