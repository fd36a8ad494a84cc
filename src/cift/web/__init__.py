"""What ``cift serve`` answers at ``/`` for people with a browser."""
