"""Inbound supplier orders: suppliers, purchase orders, suppliers' ship notices, receipts."""
