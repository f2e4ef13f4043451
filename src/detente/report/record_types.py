"""Every record type's name in both report languages, so the Chinese edition names types in
Chinese (the tables of notices, deadlines and misses list them). The fifteen the console also
names use the console's words (``console/static/i18n.json``; a test keeps them equal); a test
also checks that every catalogued type has a name here."""

from __future__ import annotations

__all__ = ["TYPE_NAMES", "type_name"]

TYPE_NAMES: dict[str, tuple[str, str]] = {
    "pre-test-notification": ("pre-test notification", "试验前通报"),
    "test-update": ("test update", "试验更新"),
    "test-cancel": ("test cancellation", "试验取消"),
    "post-test-report": ("post-test report", "试验后报告"),
    "observation-invitation": ("observation invitation", "观察邀请"),
    "policy-development-notification": ("policy development notification", "政策制定通报"),
    "withheld-notification": ("withheld notification", "不予通报记录"),
    "unexplained-incident-notification": ("unexplained incident notification", "不明事件通报"),
    "hotline-message": ("hotline message", "热线消息"),
    "clarification-request": ("clarification request", "澄清请求"),
    "clarification-response": ("clarification response", "澄清答复"),
    "consultation-meeting-request": ("consultation meeting request", "磋商会议请求"),
    "link-test": ("link test", "链路测试"),
    "periodic-exchange": ("periodic exchange", "定期交换"),
    "receipt": ("receipt", "回执"),
    "acknowledgement": ("acknowledgement", "确认"),
    "deadline-missed": ("deadline missed", "逾期记录"),
    "escalation": ("escalation", "升级"),
    "incident-report": ("incident report", "事件报告"),
    "incident-classification": ("incident classification", "事件分类"),
    "incident-link": ("incident link", "事件关联"),
    "incident-link-confirmation": ("incident link confirmation", "事件关联确认"),
    "incident-comment": ("incident comment", "事件评论"),
    "eval-samples": ("evaluation samples", "评测样本"),
    "eval-result": ("evaluation result", "评测结果"),
    "eval-preregistration": ("evaluation preregistration", "评测预注册"),
    "eval-recheck": ("evaluation recheck", "评测复核"),
    "commitment-document": ("commitment document", "承诺文件"),
    "commitment-signature": ("commitment signature", "承诺签署"),
    "commitment-withdrawal": ("commitment withdrawal", "承诺撤回"),
    "implementation-report": ("implementation report", "履行报告"),
    "glossary-definition": ("glossary definition", "术语定义"),
    "label-guideline": ("labeling guideline", "标识指南"),
    "c2pa-trust-anchor": ("C2PA trust anchor", "C2PA 信任锚"),
    "label-check": ("label check", "标识检查"),
    "watermark-key": ("watermark key", "水印密钥"),
    "takedown-request": ("takedown request", "下架请求"),
    "takedown-response": ("takedown response", "下架答复"),
    "trusted-supplier": ("trusted supplier", "可信供应商"),
    "supplier-recognition": ("supplier recognition", "供应商认可"),
    "supplier-recognition-signature": ("supplier recognition signature", "供应商认可签署"),
    "violation-narrative": ("violation narrative", "违规情况说明"),
    "export-rule-pack": ("export rule pack", "出口管制规则包"),
    "quarterly-report": ("quarterly report", "季度报告"),
    "key-rotation": ("key rotation", "密钥轮换"),
    "encryption-key": ("encryption key", "加密密钥"),
    "key-revocation": ("key revocation", "密钥吊销"),
}


def type_name(short: str, lang: str) -> str:
    """A record type's name (``hotline-message``) in ``lang``; an unknown type as it is."""
    pair = TYPE_NAMES.get(short)
    if pair is None:
        return short
    return pair[0] if lang == "en" else pair[1]
