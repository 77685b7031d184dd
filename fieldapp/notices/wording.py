"""The default text of each stage's notice, in Chinese (the owners' language): what a
community uses until an admin edits its own. Courteous at every stage; firmer wording
and heavier consequences only as the ladder climbs."""
from __future__ import annotations

from ..domain.notice_text import BLOCKS

KINDS = ("reminder", "payment_notice", "demand_letter", "lawyer_letter")

COMMON = {
    "greeting": "尊敬的{recipient}：",
    "legal_basis": "依据：您与本公司签订的《物业服务合同》及《前期物业服务协议》有关物业费"
                   "缴纳期限和违约金的约定；《中华人民共和国民法典》第九百四十四条：业主应当"
                   "按照约定向物业服务人支付物业费。",
    "closing": "如您对费用有疑问，或确有困难需要分期缴纳，欢迎随时与我们联系，我们将竭诚为"
               "您服务。感谢您对物业工作的理解与支持！",
    "sender": "{community}物业服务中心",
    "sender_address": "{address}（{community}物业服务中心）",
    "contact": "您的管家{issuer}，或物业服务中心前台（工作日 9:00–18:00）。",
    "how_to_pay": "扫描右侧二维码查看账单明细和缴费方式；也可到物业服务中心前台以微信、"
                  "支付宝或银行卡缴纳，缴费时请注明房号{unit}。",
}

DEFAULTS = {
    "reminder": {
        "title": "缴费温馨提醒",
        "body": "您好！经核对，您名下{unit}截至{issue_date}尚有物业服务费等费用人民币{arrears}"
                "元未缴（明细见下表），按合同约定产生的违约金为{late_fee}元，合计{total}元。"
                "可能您近期事务繁忙未及缴纳，特此温馨提醒，请于{deadline}前缴纳。",
        "consequences": "按期缴纳可避免违约金继续累计。",
    },
    "payment_notice": {
        "title": "物业费缴费通知书",
        "body": "您名下{unit}的物业服务费等费用已逾期{days_overdue}天，截至{issue_date}欠费"
                "人民币{arrears}元，违约金{late_fee}元，合计{total}元（明细及违约金计算见下"
                "表）。请您于{deadline}前缴清。",
        "consequences": "逾期未缴的，违约金将按合同约定每日继续累计，本公司将安排专人上门"
                        "沟通。",
    },
    "demand_letter": {
        "title": "催告函",
        "body": "本公司已多次提醒，您名下{unit}的物业服务费等费用自{oldest_due}起至今仍未"
                "缴清，逾期{days_overdue}天，欠费人民币{arrears}元，违约金{late_fee}元，合计"
                "{total}元。现正式催告您于{deadline}前缴清全部欠费。",
        "consequences": "如您在上述期限内仍未缴纳，本公司将依法委托律师处理，并保留向人民"
                        "法院提起诉讼、要求支付欠费、违约金及诉讼费用的权利。本函同时作为"
                        "本公司主张权利的书面催告。",
    },
    "lawyer_letter": {
        "title": "律师函（草稿）",
        "body": "受{community}物业服务中心委托，就您名下{unit}拖欠物业服务费一事致函如下："
                "截至{issue_date}，您欠缴物业服务费等费用人民币{arrears}元，违约金{late_fee}"
                "元，合计{total}元，最早一笔应于{oldest_due}缴纳。请您于{deadline}前缴清。",
        "consequences": "逾期未缴的，委托人将向有管辖权的人民法院提起诉讼，由此产生的诉讼"
                        "费、律师费等费用可能由您承担，且可能影响您的信用记录。",
    },
}


def default_blocks(kind: str) -> dict[str, str]:
    """Every block of the default template of this stage."""
    found = {**COMMON, **DEFAULTS.get(kind, DEFAULTS["reminder"])}
    return {name: found.get(name, "") for name in BLOCKS}
