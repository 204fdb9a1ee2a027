"""China's working-day calendar (法定节假日 and 调休): one home for holidays.

* `days`: working days counted in Python (`WorkingCalendar`, `add_working_days`, ...), from the
  chinese-calendar library and, for years it does not know, the days an administrator entered;
* `workdays`: the same calendar as the `calendar_days` table, so lists count working days in SQL;
* `models`: `Holiday` (the administrator's entries) and `CalendarDay` (the table);
* `services`: entering and removing holidays (audited); `cli`: `flask govservice holidays ...`.

The time source itself (`now`, `today`, the test clock) is `govservice.core.clock`.
"""
