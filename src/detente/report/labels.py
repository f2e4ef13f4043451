"""Every fixed word of the report, in English and Chinese, in one place. The operator's chosen
language comes first; the other follows it (headings) or is left out (table cells)."""

from __future__ import annotations

from dataclasses import dataclass

from detente.errors import MalformedError

__all__ = ["LABELS", "LANGS", "VALUES", "Label", "check_lang", "label", "other_lang", "value"]

LANGS = ("en", "zh")

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Quarterly exchange report", "季度信息交换报告"),
    "period": ("Period", "报告期"),
    "party": ("Reporting party", "报告方"),
    "agreement": ("Agreement", "协议"),
    "parties": ("Parties", "各方"),
    "as_of": ("Threads evaluated as of", "线程评估截止时间"),
    "generated_at": ("Generated at", "生成时间"),
    "records": ("Records issued in the quarter", "本季度发布的记录"),
    "items_omitted": (
        "Item lists were left out of this copy to fit one log entry; every count is complete.",
        "为适应单条日志条目大小，本副本省略了条目列表；所有计数完整。",
    ),
    "summary": ("Summary", "摘要"),
    "notices": ("Notices sent and received", "发送和接收的通知"),
    "notices_chart": ("Notices by type", "按类型统计的通知"),
    "weeks_chart": ("Activity by week", "每周活动"),
    "exchanges": ("Notices by counterpart", "按对方统计的通知"),
    "deadlines": ("Response times against deadlines", "对照时限的响应时间"),
    "deadline_totals": ("All notice types, by obligation and party", "所有通知类型（按义务和当事方）"),
    "deadline_chart": (
        "Obligations met in time, late, overdue and pending",
        "按时、逾期履行、逾期未履行和待履行的义务",
    ),
    "withheld": ("Withheld notifications and the quota", "不予通报记录与配额"),
    "withheld_total": ("Withheld notifications issued in the quarter", "本季度发布的不予通报记录"),
    "withheld_limit": ("Allowed per party and calendar year", "每方每日历年允许的数量"),
    "over_quota": ("Over the quota", "超出配额"),
    "withheld_excesses": ("Withheld notifications over the agreed quota", "超出约定配额的不予通报记录"),
    "number_of_year": ("Number in its year / allowed", "当年序号 / 允许数量"),
    "reason_class": ("Reason", "理由"),
    "declared": ("Declared over quota", "已声明超出配额"),
    "time_claims": ("Claimed times the witnesses contradict", "见证时间否定的声明时间"),
    "time_model": (
        "Deadlines are judged on witnessed time: a window opens when a checkpoint holding the notice was cosigned "
        "by a witness other than its sender, and an answer counts when a checkpoint holding it was cosigned. "
        "Listed below: records whose own issued time lies outside that interval by more than the agreed tolerance.",
        "时限按见证时间判定：通知自非发送方的见证方联署包含该通知的检查点时起算，答复以包含答复的检查点被联署的时间为准。"
        "下列记录自称的发布时间超出见证区间，且超过约定容差。",
    ),
    "time_claims_total": ("Records with a contradicted time", "时间被否定的记录"),
    "time_claims_items": ("Records and their witnessed intervals", "记录及其见证区间"),
    "thread": ("Thread", "线程"),
    "witnessed_from": ("Not yet in the log at", "此时尚未入日志"),
    "witnessed_by": ("In the log by", "此时已入日志"),
    "witnesses": ("Established by", "见证方"),
    "pairs": ("Responsiveness between every pair of parties", "各方两两之间的响应情况"),
    "pair": ("Sender → recipient", "发送方 → 接收方"),
    "notices_col": ("Notices", "通知"),
    "received_in_time": ("Received in time", "按时接收"),
    "answered_in_time": ("Answered in time / owed", "按时答复 / 应答复"),
    "missed_col": ("Missed", "错过"),
    "silent": ("Silent", "沉默"),
    "sealed": ("Sealed exchanges", "加密交换"),
    "sealed_model": (
        "Records marked TLP:AMBER or TLP:RED are sealed to their recipients: counted here, never shown.",
        "标记为TLP:AMBER或TLP:RED的记录仅对其接收方加密可读：此处只计数，不显示内容。",
    ),
    "sealed_total": ("Sealed records issued in the quarter", "本季度发布的加密记录"),
    "sealed_by_tlp": ("By marking", "按标记"),
    "sealed_by_sender": ("By sender", "按发送方"),
    "sealed_by_type": ("By type", "按类型"),
    "misses": ("Missed deadlines", "错过的时限"),
    "misses_by_party": ("Misses by party", "各方错过的时限"),
    "miss_records": ("Deadline-missed records logged", "已记录的错过时限记录"),
    "escalation_records": ("Escalation records logged", "已记录的升级记录"),
    "hotline": ("Hotline use", "热线使用情况"),
    "hotline_priority": ("Messages and acknowledgements by priority", "按优先级统计的消息和确认"),
    "hotline_topic": ("Messages by topic", "按主题统计的消息"),
    "hotline_items": ("Flash and immediate messages", "特急和加急消息"),
    "incidents": ("Incidents", "事件"),
    "incidents_harm": ("Incidents by harm type", "按危害类型统计的事件"),
    "incidents_sector": ("Incidents by sector", "按行业统计的事件"),
    "incidents_severity": ("Incidents by severity", "按严重程度统计的事件"),
    "incidents_party": ("Incidents by reporting party", "按报告方统计的事件"),
    "incidents_items": ("Incidents reported", "报告的事件"),
    "evaluations": ("Evaluation results exchanged", "交换的评测结果"),
    "evaluations_party": ("Results by party", "各方的结果"),
    "evaluations_items": ("Results", "结果"),
    "labels": ("Label checks and takedowns", "标识核查和删除请求"),
    "labels_regime": ("Label-check verdicts by regime", "按制度统计的标识核查结论"),
    "takedowns": ("Takedown requests", "删除请求"),
    "exportctl": ("Export controls", "出口管制"),
    "disclosures": ("Inadvertent-violation disclosures", "无意违规披露"),
    "suppliers": ("Trusted-supplier changes", "可信供应商变更"),
    "recognitions": ("Mutual-recognition arrangements proposed", "提出的互认安排"),
    "verification": ("Log verification status", "日志验证状态"),
    "verification_note": (
        "As the node saw its logs when the report was generated.",
        "以生成报告时节点所见的日志状态为准。",
    ),
    "alarms": ("Alarms", "警报"),
    "no_alarms": ("No equivocation or inconsistency alarm.", "没有分叉或不一致警报。"),
    "none": ("None in this quarter.", "本季度没有。"),
    "translation": ("translation", "译文"),
    "original": ("original", "原文"),
    # columns
    "type": ("Type", "类型"),
    "sent": ("Sent", "发送"),
    "received": ("Received", "接收"),
    "others": ("Between others", "其他方之间"),
    "counterpart": ("Counterpart", "对方"),
    "sent_to": ("Sent to it", "发给对方"),
    "received_from": ("Received from it", "收到对方"),
    "kind": ("Obligation", "义务"),
    "owed_by": ("Owed by", "义务方"),
    "total": ("Total", "总数"),
    "in_time": ("In time", "按时"),
    "late": ("Late", "逾期履行"),
    "overdue": ("Overdue", "逾期未履行"),
    "pending": ("Pending", "待履行"),
    "missed": ("Missed", "错过"),
    "median": ("Median", "中位数"),
    "p90": ("90th percentile", "第90百分位"),
    "record": ("Record", "记录"),
    "due": ("Due", "截止"),
    "met_at": ("Met late at", "逾期履行时间"),
    "recorded_by": ("Recorded by", "记录方"),
    "escalation": ("Escalation steps", "升级步骤"),
    "priority": ("Priority", "优先级"),
    "messages": ("Messages", "消息"),
    "topic": ("Topic", "主题"),
    "count": ("Count", "数量"),
    "issued": ("Issued", "发布时间"),
    "to": ("To", "收件方"),
    "state": ("State", "状态"),
    "text": ("Text", "文本"),
    "incident": ("Incident", "事件"),
    "stage": ("Stage", "阶段"),
    "severity": ("Severity", "严重程度"),
    "harm_types": ("Harm types", "危害类型"),
    "sectors": ("Sectors", "行业"),
    "title_col": ("Title", "标题"),
    "commitments": ("Commitments", "承诺"),
    "cm_in_force": ("Document versions in force at the end of the period", "期末生效的文件版本"),
    "cm_documents": ("Document versions drafted", "起草的文件版本"),
    "cm_signatures": ("Signatures logged", "记录的签署"),
    "cm_withdrawals": ("Withdrawals logged", "记录的撤回"),
    "cm_reports": ("Implementation reports logged", "记录的履行报告"),
    "cm_document": ("Document", "文件"),
    "cm_kind": ("Kind", "类别"),
    "cm_rule": ("Adopted when signed by", "通过条件"),
    "cm_adopted": ("Adopted", "通过时间"),
    "reports": ("Reports", "报告"),
    "distinct": ("Distinct incidents", "不同事件"),
    "deaths": ("Deaths", "死亡"),
    "injuries": ("Injuries", "受伤"),
    "classifications": ("Classifications", "分类"),
    "links": ("Links", "关联"),
    "comments": ("Comments", "评论"),
    "suite": ("Suite", "评测套件"),
    "model": ("Model", "模型"),
    "passed": ("Passed", "通过"),
    "failed": ("Failed", "未通过"),
    "unreadable": ("Unreadable", "无法读取"),
    "results": ("Results", "结果"),
    "samples": ("Samples", "样本"),
    "preregistered": ("Pre-registered", "预注册"),
    "rechecks": ("Re-checks", "复核"),
    "regime": ("Regime", "制度"),
    "checks": ("Checks", "核查"),
    "requested": ("Requested", "请求"),
    "acted": ("Acted on", "已处理"),
    "declined": ("Declined", "已拒绝"),
    "category": ("Category", "类别"),
    "requester": ("Requested by", "请求方"),
    "narratives": ("Narratives owed", "应提交的完整说明"),
    "narrative_records": ("Narratives logged in the quarter", "本季度记录的完整说明"),
    "listed": ("Listed", "列入"),
    "delisted": ("Delisted", "移除"),
    "supplier": ("Supplier", "供应商"),
    "country": ("Country", "国家"),
    "status": ("Status", "状态"),
    "effective": ("Effective", "生效日期"),
    "arrangement": ("Arrangement", "安排"),
    "proposed_by": ("Proposed by", "提出方"),
    "signed_by": ("Signed by", "签署方"),
    "complete": ("In force once effective", "已全部签署"),
    "signatures": ("Co-signatures logged", "记录的联署"),
    "log": ("Log", "日志"),
    "role": ("Role", "角色"),
    "size": ("Size", "大小"),
    "root": ("Root hash", "根哈希"),
    "cosigned_by": ("Cosigned by", "见证签名"),
    "last_sync": ("Last sync", "最近同步"),
    "last_error": ("Last error", "最近错误"),
    "origin": ("Origin", "来源"),
    "detail": ("Detail", "详情"),
    "at": ("At", "时间"),
    "week": ("Week of", "周"),
    "hotline_col": ("Hotline", "热线"),
    "incidents_col": ("Incidents", "事件"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "chart": ("Chart", "图表"),
    "chart_data": ("The numbers of this chart are in the table below.", "本图的数据见下表。"),
}

VALUES: dict[str, tuple[str, str]] = {
    "in-force": ("in force", "生效中"),
    "adopted": ("adopted, not yet in force", "已通过，尚未生效"),
    "awaiting": ("awaiting signatures", "待签署"),
    "withdrawn": ("withdrawn", "已撤回"),
    "all": ("every party", "全部各方"),
    "statement": ("statement", "声明"),
    "principles": ("principles", "原则"),
    "moratorium": ("moratorium", "暂停"),
    "glossary": ("glossary", "术语表"),
    "agreement": ("agreement", "协议"),
    "receipt": ("receipt", "回执"),
    "response": ("response", "答复"),
    "follow-up": ("follow-up", "后续说明"),
    "flash": ("flash", "特急"),
    "immediate": ("immediate", "加急"),
    "routine": ("routine", "常规"),
    "sent": ("sent", "已发送"),
    "received": ("received", "已接收"),
    "answered": ("answered", "已答复"),
    "urgent-concern": ("urgent concern", "紧急关切"),
    "critical-infrastructure-early-warning": ("critical-infrastructure early warning", "关键基础设施预警"),
    "inadvertent-export-control-violation": ("inadvertent export-control violation", "无意违反出口管制"),
    "crisis": ("crisis", "危机"),
    "low": ("low", "一般"),
    "medium": ("medium", "较大"),
    "high": ("high", "重大"),
    "critical": ("critical", "特别重大"),
    "health": ("health", "健康"),
    "critical-infrastructure": ("critical infrastructure", "关键基础设施"),
    "human-rights": ("human rights", "人权"),
    "property-communities-environment": ("property, communities, environment", "财产、社区和环境"),
    "society": ("society", "社会"),
    "initial": ("initial", "初始"),
    "update": ("update", "更新"),
    "final": ("final", "最终"),
    "pass": ("pass", "通过"),
    "fail": ("fail", "未通过"),
    "not-applicable": ("not applicable", "不适用"),
    "listed": ("listed", "列入"),
    "delisted": ("delisted", "移除"),
    "own": ("own log", "本方日志"),
    "peer": ("peer mirror", "对方镜像"),
    "consistent": ("consistent", "一致"),
    "inconsistent": ("inconsistent", "不一致"),
    "not-comparable": ("not comparable", "不可比"),
    "in_time": ("in time", "按时"),
    "late": ("late", "逾期履行"),
    "overdue": ("overdue", "逾期未履行"),
    "pending": ("pending", "待履行"),
}


@dataclass(frozen=True)
class Label:
    """A fixed text in the primary language, with the other language beside it."""

    text: str
    lang: str
    other: str
    other_lang: str


def check_lang(lang: str) -> str:
    """``lang`` if the report can be written in it; else a typed error with a hint."""
    if lang not in LANGS:
        raise MalformedError(f"no report language {lang!r}", hint="choose en or zh")
    return lang


def other_lang(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def label(key: str, lang: str) -> Label:
    en, zh = LABELS[key]
    return Label(en, "en", zh, "zh") if lang == "en" else Label(zh, "zh", en, "en")


def value(text: str, lang: str) -> str:
    """An enumerated value (priority, severity, obligation...) in ``lang``; others as they are."""
    pair = VALUES.get(text)
    if pair is None:
        return text
    return pair[0] if lang == "en" else pair[1]
