"""The inventory: tenants, operators, customers, services, calling profiles and SIP connections,
validated (`schema`) and loaded (`loader`) from a YAML file."""
from provisioning.inventory.loader import (
    DEMO_INVENTORY,
    LoadReport,
    load_inventory,
    load_inventory_as,
    load_inventory_file,
    parse_inventory,
    read_inventory,
)
from provisioning.inventory.schema import Inventory, InventoryError

__all__ = ["DEMO_INVENTORY", "Inventory", "InventoryError", "LoadReport", "load_inventory", "load_inventory_as",
           "load_inventory_file", "parse_inventory", "read_inventory"]
