"""进度查询: anyone holding a case's number and its 查询码 (printed on the 受理通知书, with a QR
code) sees where the case stands, without signing in: steps and dates only, no personal data."""
