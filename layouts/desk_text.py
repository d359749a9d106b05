"""Labels of the desk and the case detail, in Chinese (the default) and English.

Kept apart from layouts/i18n.py (the screens' labels) because the desk has many of
its own; `text(language)` gives both merged.
"""

from __future__ import annotations

from layouts.i18n import labels

DESK: dict[str, dict[str, str]] = {
    "zh": {
        "col_case": "案件编号", "col_category": "案件类别", "col_place": "区域 / 街道",
        "col_unit": "责任单位", "col_state": "状态", "col_left": "剩余时间",
        "col_urgency": "紧急程度", "col_source": "来源", "col_reported": "上报时间",
        "col_marks": "标记", "filter_text": "编号、地址或描述", "filter_department": "责任单位",
        "filter_district": "区域", "filter_kind": "大类", "filter_major": "大类编码",
        "filter_category": "小类", "filter_source": "来源", "filter_state": "状态",
        "filter_light": "亮灯", "filter_urgency": "紧急程度", "filter_supervised": "仅督办案件",
        "filter_closed": "含近期结案", "filter_clear": "清除筛选", "export_csv": "导出 CSV",
        "rows_shown": "条", "detail_none": "在表格中选择一个案件查看详情。",
        "history": "办理过程", "deadline_how": "处置时限", "position": "位置",
        "limit": "时限", "deadline": "截止时间", "warn_at": "黄灯时间",
        "suspensions": "挂账次数", "extensions": "延期", "emergency_cap": "应急时限上限",
        "emergency_case": "应急案件：按自然时计算", "note_placeholder": "说明（必填）",
        "act_urge": "催办", "act_supervise": "督办", "act_flag": "标记为应急案件",
        "act_done": "已发布，案件将随数据流更新。", "alerts": "提醒", "ack": "已阅",
        "ack_all": "全部已阅", "sound": "新紧急提醒提示音", "no_alerts": "暂无新提醒",
        "alert_overdue": "已超期", "alert_urgent": "新紧急案件", "alert_returned": "多次回退",
        "alert_cluster": "同地点多次上报", "marks_supervised": "督", "marks_urged": "催",
        "marks_emergency": "急", "unit_natural_hours": "自然小时",
        "unit_working_hours": "工作小时", "unit_working_days": "工作日",
        "description": "描述", "address": "地址", "grid": "网格", "case": "案件",
        "by": "操作人", "err_role": "您的角色无权执行此操作。",
        "err_note": "请填写说明（2–500 字）。",
        "err_case": "案件不存在。", "err_closed": "案件已结束，不能再操作。",
        "err_action": "未知操作。", "err_contract": "事件不符合数据契约。",
    },
    "en": {
        "col_case": "Case", "col_category": "Category", "col_place": "District / street",
        "col_unit": "Responsible unit", "col_state": "State", "col_left": "Time left",
        "col_urgency": "Urgency", "col_source": "Source", "col_reported": "Reported",
        "col_marks": "Marks", "filter_text": "Case number, address or description",
        "filter_department": "Unit", "filter_district": "District", "filter_kind": "Kind",
        "filter_major": "Major class", "filter_category": "Minor class",
        "filter_source": "Source", "filter_state": "State", "filter_light": "Light",
        "filter_urgency": "Urgency", "filter_supervised": "Supervised only",
        "filter_closed": "With recently closed", "filter_clear": "Clear filters",
        "export_csv": "Export CSV", "rows_shown": "rows",
        "detail_none": "Select a case in the table to see its detail.",
        "history": "History", "deadline_how": "Deadline", "position": "Position",
        "limit": "Limit", "deadline": "Deadline", "warn_at": "Yellow from",
        "suspensions": "Suspensions", "extensions": "Extensions",
        "emergency_cap": "Emergency cap", "emergency_case": "Emergency case: natural hours",
        "note_placeholder": "Note (required)", "act_urge": "Urge", "act_supervise": "Supervise",
        "act_flag": "Flag as emergency case",
        "act_done": "Published; the case updates as the stream brings it back.",
        "alerts": "Alerts", "ack": "Seen", "ack_all": "All seen",
        "sound": "Sound for new urgent alerts", "no_alerts": "No new alerts",
        "alert_overdue": "Overdue", "alert_urgent": "New urgent case",
        "alert_returned": "Returned again", "alert_cluster": "Reported again at one spot",
        "marks_supervised": "S", "marks_urged": "U", "marks_emergency": "E",
        "unit_natural_hours": "natural hours", "unit_working_hours": "working hours",
        "unit_working_days": "working days", "description": "Description",
        "address": "Address", "grid": "Grid", "case": "Case", "by": "By",
        "err_role": "Your role may not do this.",
        "err_note": "A note of 2–500 characters is required.",
        "err_case": "No such case.", "err_closed": "The case is no longer open.",
        "err_action": "Unknown action.", "err_contract": "The event breaks the stream contract.",
    },
}  # fmt: skip

# Names of the contract's codes, shown instead of the codes.
CODES: dict[str, dict[str, str]] = {
    "zh": {
        "reported": "已上报", "filed": "已立案", "dispatched": "已派遣", "handled": "已处置",
        "verifying": "核查中", "suspended": "挂账", "closed": "已结案", "rejected": "不予立案",
        "voided": "已作废", "inspector": "监督员", "citizen": "市民", "hotline": "12345热线",
        "video": "视频", "media": "媒体", "self": "自查自纠", "normal": "一般", "urgent": "紧急",
        "very_urgent": "特急", "event": "事件", "component": "部件", "green": "绿灯",
        "yellow": "黄灯", "red": "红灯（超期）",
        "case.reported": "上报", "case.filed": "立案", "case.rejected": "不予立案",
        "case.voided": "作废", "case.dispatched": "派遣", "case.returned": "回退",
        "case.extended": "延期", "case.suspended": "挂账", "case.resumed": "恢复",
        "case.handled": "处置完毕", "case.verified": "核查", "case.closed": "结案",
        "case.urged": "催办", "case.supervised": "督办", "case.flagged": "标记应急",
    },
    "en": {
        "reported": "reported", "filed": "filed", "dispatched": "dispatched",
        "handled": "handled", "verifying": "verifying", "suspended": "suspended",
        "closed": "closed", "rejected": "rejected", "voided": "voided",
        "inspector": "inspector", "citizen": "citizen", "hotline": "hotline",
        "video": "video", "media": "media", "self": "self-handled", "normal": "normal",
        "urgent": "urgent", "very_urgent": "very urgent", "event": "event",
        "component": "component", "green": "green", "yellow": "yellow", "red": "red (overdue)",
        "case.reported": "reported", "case.filed": "filed", "case.rejected": "rejected",
        "case.voided": "voided", "case.dispatched": "dispatched", "case.returned": "returned",
        "case.extended": "extended", "case.suspended": "suspended", "case.resumed": "resumed",
        "case.handled": "handled", "case.verified": "verified", "case.closed": "closed",
        "case.urged": "urged", "case.supervised": "supervised", "case.flagged": "flagged",
    },
}  # fmt: skip


def text(language: str) -> dict[str, str]:
    """The screens' labels with the desk's, in one language."""
    lang = "en" if language == "en" else "zh"
    return {**labels(language), **DESK[lang]}


def codes(language: str) -> dict[str, str]:
    """Names of states, sources, urgencies, kinds, lights and event types."""
    return CODES["en" if language == "en" else "zh"]
