"""The production diary (nhật ký sản xuất, C3): farm and factory work as EPCIS events."""
