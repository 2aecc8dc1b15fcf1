"""Recommended actions per segment: what marketing does with each group of customers.

Every label of a built-in grouping (the schemes ``rfm11``, ``rfm10``, ``classic8``,
``value4``, the value matrix and the value tiers) has a short, concrete action in English
and Chinese. They are keyed by the English label, so a label that two schemes share
("Champions", "Lost", "New Customers") has one action; the Chinese labels reach them
through the schemes' label pairs. Users override them with a mapping or with the
``actions`` of a `rfmkit.SegmentScheme`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from rfmkit.exceptions import InvalidParameterError

#: English label -> (action in English, action in Chinese).
ACTIONS: dict[str, tuple[str, str]] = {
    # rfm11 / rfm10 (Putler's segments)
    "Champions": (
        "Reward them: early access to new products, loyalty perks; ask for reviews and referrals.",
        "奖励他们：新品抢先体验、会员专属权益；邀请评价和推荐。",
    ),
    "Loyal Customers": (
        "Upsell higher-value products; invite them to the loyalty programme; ask for reviews.",
        "推荐更高价值的商品；邀请加入会员计划；请他们写评价。",
    ),
    "Potential Loyalist": (
        "Offer membership or a points programme; recommend related products.",
        "提供会员或积分计划；推荐相关商品，培养忠诚度。",
    ),
    "New Customers": (
        "Onboard them well: a welcome series and a coupon for the second purchase.",
        "做好新客引导：欢迎系列消息和第二单优惠券。",
    ),
    "Promising": (
        "Build awareness: a free sample or a small offer to bring them back.",
        "加深品牌认知：赠送试用装或小额优惠，促成再次购买。",
    ),
    "Need Attention": (
        "Limited-time offers and recommendations based on what they bought.",
        "限时优惠，并根据历史购买推荐商品。",
    ),
    "About To Sleep": (
        "Reconnect before they lapse: popular products and a return discount.",
        "在沉睡前重新联系：推送热门商品和回购折扣。",
    ),
    "At Risk": (
        "Win-back campaign with a personal offer before they lapse.",
        "在流失前开展挽回活动，提供个性化优惠。",
    ),
    "Can't Lose Them": (
        "Win them back personally: call or write, your best offer; ask what went wrong.",
        "亲自挽回：电话或专属邮件，给出最优惠的条件；询问不满意的原因。",
    ),
    "Hibernating": (
        "Low-cost reactivation: relevant offers and a special discount; keep the spend small.",
        "低成本唤醒：相关商品推荐和特别折扣，控制投入。",
    ),
    "Lost": (
        "One low-cost reactivation attempt; if it fails, leave them out of paid campaigns.",
        "以低成本尝试一次唤醒；无效则不再投放付费营销。",
    ),
    # classic8 (重要价值客户 ...)
    "Important Value": (
        "Keep them: VIP care, exclusive offers and early access.",
        "重点维护：VIP 专属服务、专属优惠和新品优先体验。",
    ),
    "Important Develop": (
        "Raise their purchase frequency: membership benefits, repurchase coupons.",
        "提升购买频次：会员权益、复购券。",
    ),
    "Important Retain": (
        "Bring them back soon: personal reminders and an offer before they drift away.",
        "主动联系促成回购：个性化提醒和优惠，防止流失。",
    ),
    "Important Win-back": (
        "Win them back before they are lost: ask why they left, a targeted win-back offer.",
        "重点挽留：了解流失原因，提供针对性的挽回优惠。",
    ),
    "General Value": (
        "Raise the spend per order: bundles, cross-selling, free-shipping thresholds.",
        "提升客单价：组合套餐、交叉销售、满额包邮。",
    ),
    "General Develop": (
        "Nurture at low cost: new-customer offers and product recommendations.",
        "低成本培育：新客优惠和商品推荐。",
    ),
    "General Retain": (
        "Reactivate at low cost: reminders and small coupons.",
        "低成本唤醒：回购提醒和小额优惠券。",
    ),
    "General Win-back": (
        "Lowest priority: automated, low-cost campaigns only.",
        "优先级最低：只做自动化、低成本的营销。",
    ),
    # value4
    "High Value": (
        "Retain and reward: loyalty programme and exclusive offers.",
        "保持并奖励：会员计划和专属优惠。",
    ),
    "Potential": (
        "Grow them: cross-selling, bundles, offers on the next purchase.",
        "培养成长：交叉销售、组合套餐、复购优惠。",
    ),
    "Sleeping": (
        "Wake them: a personal reminder and a time-limited offer.",
        "唤醒：个性化提醒和限时优惠。",
    ),
    # the value matrix (frequency x average order value)
    "Best": (
        "Keep them: VIP service and loyalty rewards.",
        "重点维护：VIP 服务和忠诚奖励。",
    ),
    "Frequent": (
        "Raise the order value: bundles, upselling, spend thresholds.",
        "提升客单价：组合销售、向上销售、满减门槛。",
    ),
    "Spender": (
        "Raise the purchase frequency: reminders, subscriptions or repurchase coupons.",
        "提升购买频次：复购提醒、订阅或复购券。",
    ),
    "Uncertain": (
        "Test low-cost offers to learn what works.",
        "用低成本优惠做测试，找到有效的方式。",
    ),
    # value tiers
    "platinum": (
        "Personal account management and exclusive benefits.",
        "专人维护与专属权益。",
    ),
    "gold": (
        "Move them up: tier benefits that lead to platinum.",
        "推动升级：设置通往白金的等级权益。",
    ),
    "iron": (
        "Grow their spend with targeted cross-selling.",
        "通过精准交叉销售提升消费。",
    ),
    "lead": (
        "Serve them efficiently: automated, low-cost marketing.",
        "高效服务：自动化、低成本营销。",
    ),
}

#: The groupings whose labels have built-in actions.
GROUPINGS = ("rfm11", "rfm10", "classic8", "value4", "value_matrix", "tiers")

#: Labels of rfm10 that name an rfm11 segment differently: they share its action.
_SAME_AS = {"Potential Loyalists": "Potential Loyalist", "Can't Lose": "Can't Lose Them"}


@functools.lru_cache(maxsize=1)
def _builtin() -> dict[str, str]:
    """Every built-in label (English and Chinese) -> its action in the label's language."""
    from rfmkit._segments import labels

    out: dict[str, str] = {}
    for grouping in GROUPINGS:
        for en, zh in zip(labels(grouping, "en"), labels(grouping, "zh")):
            action_en, action_zh = ACTIONS[_SAME_AS.get(en, en)]
            out[en], out[zh] = action_en, action_zh
    return out


def segment_actions(scheme: Any = "rfm11", lang: str = "en") -> dict[str, str]:
    """The recommended action of every segment of a scheme, in category order.

    Parameters
    ----------
    scheme : str or SegmentScheme, default "rfm11"
        A built-in scheme (``"rfm11"``, ``"rfm10"``, ``"classic8"``, ``"value4"``), the
        value matrix (``"value_matrix"``), the value tiers (``"tiers"``), or a
        `rfmkit.SegmentScheme` (its ``actions``; a segment without one gets ``""``).
    lang : {"en", "zh"}
        The language of the labels and of the actions.

    Returns
    -------
    dict
        Label -> action.

    Examples
    --------
    >>> import rfmkit
    >>> rfmkit.segment_actions("classic8", "zh")["重要发展客户"]
    '提升购买频次：会员权益、复购券。'
    >>> rfmkit.segment_actions("rfm11")["At Risk"]
    'Win-back campaign with a personal offer before they lapse.'
    """
    from rfmkit._scores import check_lang
    from rfmkit._segments import SegmentScheme, labels

    lang = check_lang(lang)
    if isinstance(scheme, SegmentScheme):
        return {label: scheme.actions(lang).get(label, "") for label in scheme.labels(lang)}
    if scheme not in GROUPINGS:
        raise InvalidParameterError(
            f"scheme={scheme!r} is not one of {', '.join(map(repr, GROUPINGS))} or a rfmkit.SegmentScheme"
        )
    return {label: _builtin()[label] for label in labels(scheme, lang)}


def action_column(groups: Sequence[Any], actions: Any) -> list[str] | None:
    """The action of each group label, or None when there is no column to add: `actions`
    is False, or None and some label is not a built-in one. `actions` may be a mapping
    (label -> action; labels it leaves out keep their built-in action, else ``""``) or a
    `rfmkit.SegmentScheme` (its actions, in both languages)."""
    from rfmkit._segments import SegmentScheme

    if actions is False:
        return None
    builtin = _builtin()
    labels = [group for group in groups if isinstance(group, str)]
    if actions is None:
        if not labels or any(label not in builtin for label in labels):
            return None
        given: Mapping[str, str] = {}
    elif isinstance(actions, SegmentScheme):
        given = {**actions.actions("en"), **actions.actions("zh")}
    elif isinstance(actions, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in actions.items()):
        given = actions
        unknown = [label for label in given if label not in groups]
        if unknown and groups:
            raise InvalidParameterError(
                f"actions: {', '.join(map(repr, unknown))} is not among the groups, so its action would be lost; "
                f"the groups are {', '.join(repr(g) for g in groups if isinstance(g, str))}"
            )
    else:
        raise InvalidParameterError(
            f"actions={actions!r} must be a mapping of segment label to action text, a rfmkit.SegmentScheme, "
            f"None (the built-in actions) or False (no action column)"
        )
    return [given.get(group, builtin.get(group, "")) if isinstance(group, str) else "" for group in groups]
