"""Sandboxes of outside services the platform talks to (the payment gateway), run as local
services by `shoplake stack` so that the real HTTP paths are exercised without the real world."""
