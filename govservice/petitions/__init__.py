"""网上信访 and 12345-style requests (投诉, 建议, 求助, 咨询, 信访事项) under the 信访工作条例's time limits."""
