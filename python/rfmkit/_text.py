"""The words rfmkit shows people, in English and Chinese: headings, column labels, axis
titles and notes of the plots and of the HTML report. One table, so that a word has one
translation wherever it appears."""

from __future__ import annotations

from typing import Any

#: key -> (English, Chinese). Keys with ``{}`` fields are formatted by `text`.
TEXT: dict[str, tuple[str, str]] = {
    # columns of the customer table and of the summaries
    "customer": ("Customer", "客户"),
    "customers": ("Customers", "客户数"),
    "customer_share": ("Share of customers", "客户占比"),
    "revenue": ("Revenue", "销售额"),
    "revenue_share": ("Share of revenue", "销售额占比"),
    "recency": ("Recency (days)", "最近一次购买距今（天）"),
    "frequency": ("Purchases", "购买次数"),
    "monetary": ("Spend", "消费金额"),
    "avg_order_value": ("Average order value", "客单价"),
    "recency_mean": ("Mean recency (days)", "平均距今天数"),
    "frequency_mean": ("Mean purchases", "平均购买次数"),
    "monetary_mean": ("Mean spend", "平均消费金额"),
    "recency_median": ("Median recency (days)", "距今天数中位数"),
    "frequency_median": ("Median purchases", "购买次数中位数"),
    "monetary_median": ("Median spend", "消费金额中位数"),
    "recency_vs_all": ("Recency vs all", "距今天数 / 总体"),
    "frequency_vs_all": ("Purchases vs all", "购买次数 / 总体"),
    "monetary_vs_all": ("Spend vs all", "消费金额 / 总体"),
    "first_purchase": ("First purchase", "首次购买"),
    "last_purchase": ("Last purchase", "最近购买"),
    "tenure": ("Tenure (days)", "客户时长（天）"),
    "r_score": ("R score", "R 评分"),
    "f_score": ("F score", "F 评分"),
    "m_score": ("M score", "M 评分"),
    "rfm_code": ("RFM code", "RFM 代码"),
    "rfm_score": ("RFM score", "RFM 总分"),
    "segment": ("Segment", "客户分群"),
    "tier": ("Value tier", "价值等级"),
    "quadrant": ("Value quadrant", "价值象限"),
    "cluster": ("Cluster", "聚类"),
    "cluster_name": ("Cluster name", "聚类名称"),
    "name": ("Name", "名称"),
    "segment_share": ("Share of its main segment", "主要分群占比"),
    "p_alive": ("P(alive)", "存活概率"),
    "expected_purchases": ("Expected purchases", "预期购买次数"),
    "p_purchase_30d": ("P(purchase in 30 days)", "30 天内购买概率"),
    "next_purchase_days": ("Median days to next purchase", "距下次购买天数（中位数）"),
    "clv": ("CLV", "客户终身价值"),
    "action": ("Recommended action", "建议行动"),
    "rows": ("Rows", "行数"),
    # data quality
    "rows_in": ("Rows read", "读取行数"),
    "rows_used": ("Rows used", "使用行数"),
    "dropped": ("Dropped: {}", "剔除：{}"),
    "missing_customer": ("no customer id", "缺少客户编号"),
    "missing_date": ("no valid date", "缺少有效日期"),
    "missing_order": ("no order id", "缺少订单号"),
    "invalid_amount": ("amount not a number", "金额无效"),
    "zero_amount": ("zero amount", "金额为零"),
    "return_without_purchase": ("return without a purchase", "无对应购买的退货"),
    "return": ("returns (negative amounts)", "退货（负金额）"),
    "before_window": ("before the window", "早于统计窗口"),
    "after_as_of": ("on or after the observation date", "晚于或等于观察日"),
    "after_observation_end": ("after the end of observation", "晚于观察期末"),
    "net_negative": (
        "Customers with net-negative spend (clustered on the signed log)",
        "净消费为负的客户（按带符号对数聚类）",
    ),
    # plots
    "customers %": ("customers %", "客户占比 %"),
    "revenue %": ("revenue %", "销售额占比 %"),
    "share (%)": ("share (%)", "占比 (%)"),
    "segments title": ("Segments: share of customers and of revenue", "各分群的客户占比与销售额占比"),
    "frequency score": ("frequency score", "购买频次评分 F"),
    "recency score": ("recency score", "最近购买评分 R"),
    "mean": ("mean", "平均"),
    "median": ("median", "中位数"),
    "sum": ("sum", "合计"),
    "count": ("count", "计数"),
    "heatmap title": ("{} {} by recency × frequency score", "按 R × F 评分的{}{}"),
    "centres title": ("Cluster centres", "聚类中心"),
    "centres axis": ("centre (z-score across clusters)", "中心（各聚类间的 z 分数）"),
    "k axis": ("k (number of clusters)", "k（聚类数）"),
    "inertia axis": ("inertia (transformed space)", "簇内平方和（变换后空间）"),
    "inertia": ("inertia", "簇内平方和"),
    "silhouette": ("silhouette", "轮廓系数"),
    "suggested k": ("suggested k = {}", "建议 k = {}"),
    "choose k title": ("Choosing k", "选择聚类数 k"),
    "clv axis": ("customer lifetime value", "客户终身价值"),
    "clv cut": ("({:,} above {:,.0f}, the 99th percentile, not shown)", "（{:,} 位高于第 99 百分位 {:,.0f}，未显示）"),
    "clv title": ("CLV distribution", "客户终身价值分布"),
    "mean value": ("mean {:,.2f}", "均值 {:,.2f}"),
    "median value": ("median {:,.2f}", "中位数 {:,.2f}"),
    "share of the cluster": ("share of the cluster", "占该聚类的比例"),
    "share of the segment": ("share of the segment", "占该分群的比例"),
    "crosstab title": ("Segments × clusters", "分群 × 聚类"),
    "later segment": ("segment at the later date", "后一日期的分群"),
    "earlier segment": ("segment at the earlier date", "前一日期的分群"),
    "share of the earlier segment": ("share of the earlier segment", "占前一日期分群的比例"),
    "migration title": ("Segment migration", "分群迁移"),
    "cohort title customers": ("Customers active by acquisition cohort", "各获客批次的活跃客户"),
    "cohort title shares": ("Share of each acquisition cohort active", "各获客批次的活跃客户占比"),
    "cohort title revenue": ("Revenue by acquisition cohort", "各获客批次的销售额"),
    "cohort axis": ("periods since the first purchase", "首次购买后的期数"),
    "cohort axis M": ("months since the first purchase", "首次购买后的月数"),
    "cohort axis W": ("weeks since the first purchase", "首次购买后的周数"),
    "cohort axis Q": ("quarters since the first purchase", "首次购买后的季度数"),
    "cohort axis Y": ("years since the first purchase", "首次购买后的年数"),
    "cohort": ("cohort (first purchase)", "获客批次（首次购买）"),
    "share of the cohort": ("share of the cohort", "占该批次的比例"),
}


def text(key: str, lang: str = "en", *values: Any) -> str:
    """The words of `key` in `lang` (``"en"`` or ``"zh"``), formatted with `values`; a key
    with no entry is shown as it is."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    words = pair[1] if lang == "zh" else pair[0]
    return words.format(*values) if values else words


def column_label(name: Any, lang: str = "en") -> str:
    """The human label of a column (its name when it has none)."""
    return text(str(name), lang)


def dropped_label(reason: str, lang: str = "en") -> str:
    """``"Dropped: zero amount"`` for a reason of the accounting."""
    return text("dropped", lang, text(reason, lang) if reason in TEXT else reason.replace("_", " "))
