"""Screen labels in Chinese (the default) and English, chosen by one setting."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "数字城管指挥中心",
        "reported": "今日上报",
        "filed": "今日立案",
        "dispatched": "今日派遣",
        "closed": "今日结案",
        "closure_rate": "本月结案率",
        "on_time_rate": "本月按期结案率",
        "open": "在办",
        "yellow": "黄灯",
        "red": "超期",
        "data_age": "数据",
        "live": "实时",
        "offline": "连接中断",
        "no_cases": "暂无在办案件",
        "suspended": "挂账",
        "department": "责任单位",
        "time_left": "剩余时间",
        "today_on_time": "今日按期",
        "month_on_time": "本月按期",
        "trend": "今日上报（每小时）",
    },
    "en": {
        "title": "City Management Command Centre",
        "reported": "Reported today",
        "filed": "Filed today",
        "dispatched": "Dispatched today",
        "closed": "Closed today",
        "closure_rate": "Closure rate (month)",
        "on_time_rate": "On-time rate (month)",
        "open": "Open",
        "yellow": "Yellow",
        "red": "Overdue",
        "data_age": "Data",
        "live": "live",
        "offline": "connection lost",
        "no_cases": "No open cases",
        "suspended": "Suspended",
        "department": "Department",
        "time_left": "Time left",
        "today_on_time": "On time today",
        "month_on_time": "this month",
        "trend": "Reports per hour today",
    },
}


def labels(language: str) -> dict[str, str]:
    """The labels of a language, falling back to Chinese."""
    return LABELS.get(language, LABELS["zh"])
