"""自助终端: the self-service kiosk of a service hall or a township's 便民服务中心.

A terminal is registered by an administrator (/admin/kiosks) and enrolled once at the device
with a one-time code; from then on the device proves itself with its own secret on every
request (`devices`). A person signs in there with their ID card on the terminal's reader
(`readers`: a development reader, and one that verifies the reading signed by the terminal's
reader agent), applies, prints receipts and certificates, and is signed out by the terminal
after a minute idle or on 退出, with nothing of theirs left on the screen or in the browser.
"""
